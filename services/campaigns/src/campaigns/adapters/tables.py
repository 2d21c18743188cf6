"""Rows of the campaigns database. Its domain tables arrive with the campaigns features; until then it
owns only the messaging tables that every service has."""

TABLES: frozenset[str] = frozenset()
