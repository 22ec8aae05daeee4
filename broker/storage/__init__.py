"""Stores behind one contract (base.EntityStore)."""
