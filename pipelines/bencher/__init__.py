"""Bencher: REST Organization Members API client, dlt source and simulator."""
