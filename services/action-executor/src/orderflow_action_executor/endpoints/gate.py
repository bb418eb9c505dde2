"""Per-endpoint isolation: a concurrency limit, a rate limit (the endpoint's ``ratePerSecond``,
a token bucket holding a second's worth) and a circuit breaker, in memory, per worker (N
executor processes allow N times an endpoint's rate).

An endpoint that is at its limit, or whose breaker is open, does not get the request now: the
worker hands the claim back (``defer``), not as an attempt, so the executor's slots go to the
endpoints that answer (one at its concurrency first queues for a slot a little: ``queue.py``).
A breaker opens after ``threshold`` failures in a row, stays open for ``cooldown`` seconds,
then lets one request through as a probe: success closes it, failure opens it again.
Pure apart from the clock, which tests pass in."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from orderflow_runtime.ratelimit import RateLimiter

# A request refused for the concurrency limit asks again after as long as the endpoint has gone
# without freeing a slot, within these bounds: soon at one that answers, seldom at one that
# hangs (asking every 0.2 s, the requests of one hanging endpoint were claimed and handed back
# thousands of times a second, and the healthy deliveries lost a quarter of their rate).
BUSY_WAIT = 0.2
BUSY_WAIT_MAX = 5.0


@dataclass
class _State:
    in_flight: int = 0
    failures: int = 0
    open_until: float = 0.0
    probing: bool = False
    freed_at: float = 0.0  # when a slot last freed up (or the endpoint started being busy)
    rate: float | None = None
    limiter: RateLimiter | None = field(default=None, repr=False)


class EndpointGate:
    def __init__(self, concurrency: int, threshold: int, cooldown: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.concurrency = concurrency
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self._states: dict[str, _State] = {}

    def admit(self, endpoint_id: str, rate: float | None = None) -> float | None:
        """None: go ahead (and call ``release`` after); else seconds to wait before asking
        again. ``rate``: the endpoint's requests per second, if it has a limit."""
        state = self._states.setdefault(endpoint_id, _State())
        if state.rate != rate:  # new, or changed by an operator
            state.rate = rate
            state.limiter = RateLimiter(per_minute=max(1, round(rate * 60)),
                                        burst=max(1, math.ceil(rate)),
                                        clock=self.clock) if rate else None
        now = self.clock()
        if state.open_until > now:
            return state.open_until - now
        half_open = state.failures >= self.threshold  # one probe at a time
        if half_open and state.probing:
            return min(self.cooldown, 1.0)
        if state.in_flight >= self.concurrency:
            return self._busy_wait(state, now)
        if state.limiter is not None and (wait := state.limiter.acquire(endpoint_id)) > 0:
            return wait
        if half_open:  # marked only for a request that goes out: one that waits holds none
            state.probing = True
        if state.in_flight == 0:
            state.freed_at = now
        state.in_flight += 1
        return None

    def busy_wait(self, endpoint_id: str) -> float:
        """Seconds after which a request that found the endpoint busy should ask again."""
        state = self._states.get(endpoint_id)
        return BUSY_WAIT if state is None else self._busy_wait(state, self.clock())

    @staticmethod
    def _busy_wait(state: _State, now: float) -> float:
        return min(max(now - state.freed_at, BUSY_WAIT), BUSY_WAIT_MAX)

    def release(self, endpoint_id: str, succeeded: bool) -> None:
        state = self._states[endpoint_id]
        state.in_flight -= 1
        state.probing = False
        state.freed_at = self.clock()
        if succeeded:
            state.failures = 0
            return
        state.failures += 1
        if state.failures >= self.threshold:
            state.open_until = self.clock() + self.cooldown

    def full(self, endpoint_id: str) -> bool:
        """At its concurrency with the breaker closed: a slot will free up soon."""
        state = self._states.get(endpoint_id)
        return (state is not None and state.in_flight >= self.concurrency
                and state.failures < self.threshold)

    def is_open(self, endpoint_id: str) -> bool:
        state = self._states.get(endpoint_id)
        return state is not None and state.open_until > self.clock()
