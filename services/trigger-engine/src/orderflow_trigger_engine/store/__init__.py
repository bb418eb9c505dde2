"""Triggers in PostgreSQL (every revision kept) and in memory (indexed by what they listen to),
and the state the engine keeps per order and customer."""
