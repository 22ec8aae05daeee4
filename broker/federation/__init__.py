"""Reserved for the federation layer (see docs/architecture.md)."""
