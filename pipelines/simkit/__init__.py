"""The simulator kit: what every API simulator (Benchling, Paradime, Bencher, and the next) shares: the
request and response of a simulated API call (`wire`), served over a loopback HTTP server."""
