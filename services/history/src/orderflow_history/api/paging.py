"""Opaque cursors for keyset pagination over (occurred_at, message_id)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import HTTPException


def encode_cursor(occurred_at: datetime, message_id: str) -> str:
    return base64.urlsafe_b64encode(f"{occurred_at.isoformat()}|{message_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, _, mid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), mid
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(400, "cursor is not valid: use nextCursor of a previous page") from exc


def next_cursor(rows: Sequence[Any], limit: int) -> str | None:
    """The cursor after the last row of a page fetched with ``LIMIT limit + 1``, if any is left."""
    if len(rows) <= limit:
        return None
    return encode_cursor(rows[limit - 1]["occurred_at"], rows[limit - 1]["message_id"])
