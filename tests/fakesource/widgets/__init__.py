"""Widgets: a made-up API (`GET /widgets` with a bearer token, one JSON page) as a whsync source, for tests."""
