"""Paradime: GraphQL User Management API client, dlt source and simulator."""
