"""Group commit: every caller returns once its own rows are written, callers that arrive during a
write share the next one, a failed write fails exactly its callers, and a caller that goes away
takes nobody's write with it."""

from __future__ import annotations

import asyncio

import pytest
from orderflow_runtime.groupcommit import GroupCommit


class Store:
    def __init__(self) -> None:
        self.writes: list[list[int]] = []
        self.fail: set[int] = set()

    async def write(self, rows: list[int]) -> None:
        await asyncio.sleep(0.01)  # a round trip
        if self.fail & set(rows):
            raise RuntimeError("refused")
        self.writes.append(rows)


async def test_concurrent_callers_share_writes_and_each_returns_after_its_rows() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    await asyncio.gather(*(commit([n]) for n in range(100)))
    written = [row for w in store.writes for row in w]
    assert sorted(written) == list(range(100))
    # Those that arrived before the write started go with it, the rest with the next one.
    assert len(store.writes) <= 2


async def test_a_lone_caller_is_written_at_once() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    for n in range(3):
        await asyncio.wait_for(commit([n]), 0.5)
    assert store.writes == [[0], [1], [2]]


async def test_a_failed_write_fails_its_callers_only() -> None:
    store = Store()
    store.fail = {7}
    commit = GroupCommit(store.write)
    first = asyncio.create_task(commit([0]))
    await asyncio.sleep(0)
    together = [asyncio.create_task(commit([n])) for n in range(5, 10)]  # during the first
    await first
    results = await asyncio.gather(*together, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    await commit([11])  # the next write goes on
    assert store.writes == [[0], [11]]


async def test_a_cancelled_caller_does_not_cancel_the_write() -> None:
    store = Store()
    commit = GroupCommit(store.write)
    leaving = asyncio.create_task(commit([1]))
    staying = asyncio.create_task(commit([2]))
    await asyncio.sleep(0.001)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    await staying
    assert sorted(row for w in store.writes for row in w) == [1, 2]
