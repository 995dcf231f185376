"""bashcoder: a small local transformer that writes bash."""

__version__ = "0.1.0"
