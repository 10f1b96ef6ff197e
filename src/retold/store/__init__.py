"""Persistent index: the `Store` protocol with an in-memory implementation (`base`) and the SQLite one (`sqlite`)."""
