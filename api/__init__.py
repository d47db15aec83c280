"""The HTTP API: authenticate, validate, then start/update/query Temporal."""
