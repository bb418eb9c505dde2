"""Endpoints in PostgreSQL: the operators' CRUD, the match of an effect's URL, rotation and the
state a 410 Gone leaves."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from ..intake import CHANNEL
from .signing import generate_secret

COLUMNS = "id, url, secret, previous_secret, previous_until, disabled_reason, created_at, " \
          "updated_at, rate_per_second"


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    secret: str
    previous_secret: str | None
    previous_until: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    rate_per_second: float | None = None

    def live_secrets(self, now: datetime) -> list[str]:
        """The secrets a webhook is signed with now: the current one, and the previous one
        until the rotation's grace ends."""
        keep = self.previous_secret and self.previous_until and self.previous_until > now
        return [self.secret, self.previous_secret] if keep else [self.secret]  # type: ignore[list-item]

    def to_json(self, with_secret: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "url": self.url,
            "state": "disabled" if self.disabled_reason else "active",
            "disabledReason": self.disabled_reason,
            "rotationEndsAt": self.previous_until.isoformat() if self.previous_until else None,
            "ratePerSecond": self.rate_per_second,
            "createdAt": self.created_at.isoformat(), "updatedAt": self.updated_at.isoformat()}
        if with_secret:
            out["secret"] = self.secret
        return out


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(**dict(row))


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: the endpoint created for a URL that has none."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _under(url: str, prefix: str) -> bool:
    """``url`` starts with ``prefix`` at a boundary: ``https://crm.example`` covers
    ``https://crm.example/hook`` but not ``https://crm.example.evil.com``."""
    if not url.startswith(prefix):
        return False
    return prefix.endswith(("/", "?", "=", "&")) or url[len(prefix):][:1] in ("", "/", "?", "#")


class EndpointStore:
    """``for_url`` reads a copy of every endpoint that is at most ``ttl`` seconds old (a query
    per delivery was a fifth of the executor's time); what this process changes it sees at
    once, what another replica changes within ``ttl``."""

    def __init__(self, pool: asyncpg.Pool, ttl: float = 1.0) -> None:
        self.pool = pool
        self.ttl = ttl
        self._cached: list[Endpoint] = []
        self._cached_at = float("-inf")

    def invalidate(self) -> None:
        self._cached_at = float("-inf")

    async def create(self, url: str, secret: str | None,
                     rate_per_second: float | None = None) -> Endpoint | None:
        """None when an endpoint of that URL exists already."""
        self.invalidate()
        row = await self.pool.fetchrow(
            f"INSERT INTO endpoints(id, url, secret, rate_per_second) VALUES ($1, $2, $3, $4) "
            f"ON CONFLICT (url) DO NOTHING RETURNING {COLUMNS}",
            str(uuid.uuid4()), url, secret or generate_secret(), rate_per_second)
        return _endpoint(row) if row else None

    async def get(self, endpoint_id: str) -> Endpoint | None:
        row = await self.pool.fetchrow(f"SELECT {COLUMNS} FROM endpoints WHERE id = $1",
                                       endpoint_id)
        return _endpoint(row) if row else None

    async def page(self, limit: int, after: str | None) -> list[Endpoint]:
        rows = await self.pool.fetch(
            f"SELECT {COLUMNS} FROM endpoints WHERE ($1::text IS NULL OR id > $1) "
            "ORDER BY id LIMIT $2", after, limit)
        return [_endpoint(r) for r in rows]

    async def update(self, endpoint_id: str, url: str,
                     rate_per_second: float | None = None) -> Endpoint | None:
        self.invalidate()
        row = await self.pool.fetchrow(
            f"UPDATE endpoints SET url = $2, rate_per_second = $3, updated_at = now() "
            f"WHERE id = $1 RETURNING {COLUMNS}", endpoint_id, url, rate_per_second)
        return _endpoint(row) if row else None

    async def delete(self, endpoint_id: str) -> bool:
        self.invalidate()
        async with self.pool.acquire() as conn, conn.transaction():
            # Requests waiting for it are not lost: they go on as requests of no endpoint.
            await conn.execute("UPDATE requests SET state = 'pending', next_attempt_at = now(), "
                               "endpoint_id = NULL WHERE state = 'paused' AND endpoint_id = $1",
                               endpoint_id)
            return await conn.fetchval("DELETE FROM endpoints WHERE id = $1 RETURNING true",
                                       endpoint_id) is not None

    async def rotate(self, endpoint_id: str, secret: str | None,
                     grace: timedelta) -> Endpoint | None:
        self.invalidate()
        row = await self.pool.fetchrow(
            f"UPDATE endpoints SET previous_secret = secret, previous_until = now() + $3, "
            f"secret = $2, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}",
            endpoint_id, secret or generate_secret(), grace)
        return _endpoint(row) if row else None

    async def enable(self, endpoint_id: str) -> Endpoint | None:
        """Active again: the requests that waited for it are due now."""
        self.invalidate()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"UPDATE endpoints SET disabled_reason = NULL, updated_at = now() WHERE id = $1 "
                f"RETURNING {COLUMNS}", endpoint_id)
            if row is not None:
                await conn.execute(
                    "UPDATE requests SET state = 'pending', next_attempt_at = now() "
                    "WHERE state = 'paused' AND endpoint_id = $1", endpoint_id)
                await conn.execute(f"NOTIFY {CHANNEL}")  # delivered at the commit
        return _endpoint(row) if row else None

    async def for_url(self, url: str) -> Endpoint:
        """The endpoint whose URL is the longest prefix of ``url``; one is created for the
        URL's origin, with a generated secret, when none matches."""
        found = await self._match(url)
        if found is None:
            await self.create(origin(url), None)
            found = await self._match(url)
        assert found is not None
        return found

    async def _match(self, url: str) -> Endpoint | None:
        if time.monotonic() - self._cached_at > self.ttl:
            rows = await self.pool.fetch(f"SELECT {COLUMNS} FROM endpoints")
            self._cached = sorted((_endpoint(r) for r in rows), key=lambda e: -len(e.url))
            self._cached_at = time.monotonic()
        return next((e for e in self._cached if _under(url, e.url)), None)


async def disable(conn: asyncpg.Connection, endpoint_id: str, reason: str) -> None:
    await conn.execute("UPDATE endpoints SET disabled_reason = $2, updated_at = now() "
                       "WHERE id = $1", endpoint_id, reason)
