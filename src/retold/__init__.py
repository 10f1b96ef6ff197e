"""retold: find copied, near-duplicate and rewritten versions of news articles."""

__version__ = "0.1.0"
