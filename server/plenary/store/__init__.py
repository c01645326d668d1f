"""Persistence: the only package that knows SQLAlchemy. The store is authoritative."""

from .database import Database, normalise_url

__all__ = ["Database", "normalise_url"]
