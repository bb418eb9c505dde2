"""Waiting in memory for a slot at a busy endpoint.

A request refused only because its endpoint has its ``concurrency`` requests in flight waits
here, first come first served, for one of them to finish, instead of going back to the database
due again in a moment: with one busy endpoint, handing back and claiming again was a quarter of
the executor's time (py-spy, bench/executor_bench.py) and added up to 0.2 s to a webhook.

The wait is bounded, per endpoint (at most ``per_endpoint`` requests) and in time (the caller's
``seconds``): an endpoint that hangs holds no more than that of the executor, and the rest go
back to the database as before. Waiting requests keep their claim, whose lease outlasts the
wait."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class SlotQueue:
    def __init__(self, per_endpoint: int) -> None:
        self.per_endpoint = per_endpoint
        self._waiters: dict[str, deque[asyncio.Future[None]]] = {}

    def waiting(self, endpoint_id: str) -> int:
        return len(self._waiters.get(endpoint_id, ()))

    async def wait(self, endpoint_id: str, seconds: float) -> bool:
        """True when a slot was freed (ask the gate again: another request may have taken it);
        False when the queue is full or ``seconds`` passed."""
        queue = self._waiters.setdefault(endpoint_id, deque())
        if len(queue) >= self.per_endpoint:
            return False
        freed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(freed)
        try:
            await asyncio.wait_for(freed, seconds)
            return True
        except TimeoutError:
            return False
        finally:
            with contextlib.suppress(ValueError):
                queue.remove(freed)
            # Only its own queue: one emptied earlier may have been replaced by a newer one.
            if not queue and self._waiters.get(endpoint_id) is queue:
                del self._waiters[endpoint_id]

    def freed(self, endpoint_id: str) -> None:
        """A request to the endpoint finished: the longest waiter asks again."""
        queue = self._waiters.get(endpoint_id)
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
