"""Per-API-key rate limits: a token bucket per key, held in this process.

Each replica limits on its own (N replicas allow N times the rate); a shared limit would need
a store such as PostgreSQL or Redis, which nothing here needs yet. A request over the limit is
answered 429 with ``Retry-After`` (seconds until a token is back)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from .web import authorize, bearer


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """``per_minute`` requests per key on average, up to ``burst`` at once (default: a minute's
    worth). ``per_minute=0`` turns limiting off."""

    per_minute: int
    burst: int | None = None
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    @property
    def capacity(self) -> float:
        return float(self.burst or self.per_minute)

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        rate = self.per_minute / 60.0
        bucket = self._buckets.setdefault(key, _Bucket(self.capacity, now))
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate


def limited_scope(scope: str) -> Callable[..., Any]:
    """A dependency like ``require_scope(scope)`` that also charges the key against
    ``app.state.rate_limiter`` (when there is one): 429 with ``Retry-After`` over the limit."""

    # The key checked here rather than by a require_scope dependency: each level of
    # dependencies cost the hot intake route as much as validating its order.
    async def check(
        request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> str:
        key = authorize(request, creds, scope)
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        wait = limiter.acquire(key) if limiter is not None else 0.0
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(429, f"rate limit exceeded: retry in {seconds} s",
                                headers={"Retry-After": str(seconds)})
        return key

    return check
