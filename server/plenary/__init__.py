"""Plenary: a real-time facilitation board for live, multi-table workshop events."""

__version__ = "0.1.0"
