"""Use cases: what the API asks of the broker, independent of HTTP."""
