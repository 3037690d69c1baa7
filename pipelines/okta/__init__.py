"""Okta: the company directory (users in every status, groups, app assignments)."""
