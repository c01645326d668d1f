"""Plenary's rules as plain Python: no I/O, no web framework, no database.

Everything here can be tested in microseconds; transport and persistence call in.
"""
