"""The simulator kit: what every API simulator (Benchling, Paradime, Bencher, Okta, and the next) shares.

- `wire.py`: the request and response of a simulated API call;
- `http.py`: the HTTP handler (parse, ask `simulator.handle(req)`, write the answer, or reset the connection);
- `routing.py`: path templates bound to methods by a decorator;
- `auth.py`: the auth check: the credentials schemes an API accepts (Basic, Bearer/SSWS tokens, key and
  secret headers), tried in order, and the API's own 400/401/403 answer to a refusal;
- `ratelimit.py`: the fixed-window rate limiter with `x-rate-limit-*` values (seconds or epoch reset);
- `faults.py`: fault injection (429/5xx/reset/slow/truncated/non-JSON answers, duplicated rows, shape drift;
  `fail_next(n, status)` scripts the next answers), in the API's own error envelope;
- `gate.py`: `admit(req, limiter, faults)`: the limiter, then the faults, before the API answers;
- `stats.py`: `/_simulator/stats` and its reset.

A simulator is a `loopback.LoopbackServer` with a `SimHandler` subclass; its API's resources, its auth schemes'
lookups and its error bodies live in its source folder's `simulator/` (see SOURCES_API.md)."""
