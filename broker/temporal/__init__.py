"""Reserved for the temporal layer (see docs/architecture.md)."""
