"""Group commit: the rows of concurrent callers written by one statement.

The first caller writes at once (no added latency when alone); callers that arrive while a
write is in flight wait for the next one, which takes them all. Under load the round trips and
commits fall from one per caller to one per write in flight, which is what one order per HTTP
request spent most of its database time on.

Each caller returns only when its own rows are written, and gets the write's exception if it
failed: nothing is acknowledged that is not stored."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self._write = write
        self._waiting: list[tuple[Sequence[T], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, rows: Sequence[T]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((rows, done))
        if self._writer is None:
            # A task of its own: a caller that is cancelled (its client went away) must not
            # take the others' write with it.
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(done)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._write([row for rows, _ in batch for row in rows])
                except asyncio.CancelledError:
                    for _, done in batch + self._waiting:
                        done.cancel()
                    raise
                except Exception as exc:
                    for _, done in batch:
                        done.set_exception(exc)
                else:
                    for _, done in batch:
                        done.set_result(None)
        finally:
            self._writer = None
