"""What an attempt's outcome means for its request: the state it goes to, the wait before the
next attempt, and what the timeline says. Pure: the retry schedule comes from settings."""

from __future__ import annotations

import random
from dataclasses import dataclass

from orderflow_schemas import ActionOutcome

from .effects.outcome import Attempt

MAX_RETRY_AFTER = 86400.0  # a receiver's Retry-After beyond a day is not waited for longer


@dataclass(frozen=True)
class Decision:
    state: str  # pending (retry) | succeeded | skipped | dead | paused
    outcome: ActionOutcome
    wait: float | None  # seconds before the next attempt, when there is one
    detail: str


def decide(attempt: Attempt, counted: int, delays: list[float], jitter: float) -> Decision:
    """``counted``: the attempt's number since the request was (re-)driven."""
    if attempt.gone:
        return Decision("paused", attempt.outcome, None, attempt.detail)
    if not attempt.retryable:
        return Decision(attempt.outcome.value, attempt.outcome, None, attempt.detail)
    if counted > len(delays):
        return Decision("dead", ActionOutcome.DEAD, None,
                        f"{attempt.detail}; exhausted: gave up after {counted} attempts")
    wait = delays[counted - 1] * (1 + random.random() * jitter)
    if attempt.retry_after is not None:
        wait = min(attempt.retry_after, MAX_RETRY_AFTER)
    return Decision("pending", attempt.outcome, wait, f"{attempt.detail}; retry in {wait:.1f}s")
