"""Reserved for the query layer (see docs/architecture.md)."""
