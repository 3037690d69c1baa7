"""Peers: what a user would otherwise run to get the same rows (benchling-sdk loop, dlt rest_api)."""
