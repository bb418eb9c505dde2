"""The per-key token bucket, pure (a fake clock)."""

from __future__ import annotations

from orderflow_runtime.ratelimit import RateLimiter


def test_a_bucket_per_key_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 1.0]
    assert limiter.acquire("b") == 0.0
    now[0] = 1.0
    assert limiter.acquire("a") == 0.0


def test_zero_is_off() -> None:
    limiter = RateLimiter(per_minute=0)
    assert all(limiter.acquire("a") == 0.0 for _ in range(1000))
