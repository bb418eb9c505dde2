"""Names history's adapters share: its PostgreSQL schema and its migrations."""

from __future__ import annotations

from pathlib import Path

SERVICE = "history"
MIGRATIONS = Path(__file__).parent / "migrations"
