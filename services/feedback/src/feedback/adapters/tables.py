"""Rows of the feedback database. Its domain tables arrive with the feedback features; until then it
owns only the messaging tables that every service has."""

TABLES: frozenset[str] = frozenset()
