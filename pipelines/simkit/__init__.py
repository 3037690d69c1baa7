"""The simulator kit: what every API simulator (Benchling, Paradime, Bencher, and the next) shares.

- `wire.py`: the request and response of a simulated API call;
- `http.py`: the HTTP handler (parse, ask `simulator.handle(req)`, write the answer, or reset the connection);
- `routing.py`: path templates bound to methods by a decorator;
- `ratelimit.py`: the fixed-window rate limiter with `x-rate-limit-*` headers;
- `faults.py`: fault injection (429/5xx/reset/slow/truncated/non-JSON answers, duplicated rows, shape drift);
- `stats.py`: `/_simulator/stats` and its reset.

A simulator is a `loopback.LoopbackServer` with a `SimHandler` subclass; its API's resources and auth live in
its source folder's `simulator/`."""
