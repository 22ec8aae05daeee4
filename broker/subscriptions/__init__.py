"""Reserved for the subscriptions layer (see docs/architecture.md)."""
