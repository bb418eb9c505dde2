"""The per-endpoint gate: concurrency limit and circuit breaker (pure, with a clock of ours), and
which URLs an endpoint covers."""

from __future__ import annotations

import asyncio

import pytest
from orderflow_action_executor.endpoints.gate import BUSY_WAIT, BUSY_WAIT_MAX, EndpointGate
from orderflow_action_executor.endpoints.queue import SlotQueue
from orderflow_action_executor.endpoints.store import _under


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_endpoint_at_its_limit_defers_and_others_are_not_affected() -> None:
    gate = EndpointGate(concurrency=2, threshold=3, cooldown=10, clock=Clock())
    assert gate.admit("a") is None and gate.admit("a") is None
    assert gate.admit("a") is not None  # third in flight: wait
    assert gate.admit("b") is None
    gate.release("a", succeeded=True)
    assert gate.admit("a") is None


def test_the_breaker_opens_after_failures_in_a_row_and_one_probe_closes_it() -> None:
    clock = Clock()
    gate = EndpointGate(concurrency=5, threshold=3, cooldown=10, clock=clock)
    for _ in range(3):
        assert gate.admit("a") is None
        gate.release("a", succeeded=False)
    assert gate.is_open("a") and gate.admit("a") == 10
    clock.now += 10
    assert gate.admit("a") is None  # the probe
    assert gate.admit("a") is not None  # only one probe at a time
    gate.release("a", succeeded=True)
    assert not gate.is_open("a") and gate.admit("a") is None


def test_a_failed_probe_opens_the_breaker_again() -> None:
    clock = Clock()
    gate = EndpointGate(concurrency=5, threshold=2, cooldown=10, clock=clock)
    for _ in range(2):
        gate.admit("a")
        gate.release("a", succeeded=False)
    clock.now += 10
    assert gate.admit("a") is None
    gate.release("a", succeeded=False)
    assert gate.is_open("a") and gate.admit("a") == 10


def test_a_success_between_failures_keeps_it_closed() -> None:
    gate = EndpointGate(concurrency=5, threshold=2, cooldown=10, clock=Clock())
    for ok in (False, True, False):
        gate.admit("a")
        gate.release("a", succeeded=ok)
    assert not gate.is_open("a")


def test_a_request_finding_an_endpoint_busy_waits_longer_the_longer_it_has_freed_nothing() -> None:
    clock = Clock()
    gate = EndpointGate(concurrency=1, threshold=3, cooldown=10, clock=clock)
    assert gate.admit("a") is None
    clock.now += 0.05
    assert gate.admit("a") == BUSY_WAIT  # answering fast: ask again soon
    clock.now += 2
    assert gate.admit("a") == gate.busy_wait("a") == pytest.approx(2.05)  # nothing back for 2 s
    clock.now += 60
    assert gate.admit("a") == BUSY_WAIT_MAX
    gate.release("a", succeeded=True)
    assert gate.admit("a") is None
    assert gate.admit("a") == BUSY_WAIT  # a slot just freed up


def test_an_endpoint_covers_urls_under_it_only() -> None:
    assert _under("https://crm.example/hook?x=1", "https://crm.example")
    assert _under("https://crm.example", "https://crm.example")
    assert _under("https://crm.example/hooks/a", "https://crm.example/hooks/")
    assert not _under("https://crm.example.evil.com/hook", "https://crm.example")
    assert not _under("https://crm.example:8443/hook", "https://crm.example")


def test_a_rate_limit_spaces_requests_and_follows_an_operators_change() -> None:
    clock = Clock()
    gate = EndpointGate(concurrency=100, threshold=3, cooldown=10, clock=clock)
    assert [gate.admit("a", rate=2) for _ in range(2)] == [None, None]  # a second's worth
    wait = gate.admit("a", rate=2)
    assert wait is not None and 0.4 < wait <= 0.5
    assert gate.admit("b", rate=2) is None  # another endpoint has its own bucket
    clock.now += 0.5
    assert gate.admit("a", rate=2) is None
    assert gate.admit("a", rate=2) is not None
    assert gate.admit("a", rate=None) is None  # the limit removed: no wait


def test_only_a_busy_endpoint_with_a_closed_breaker_is_full() -> None:
    gate = EndpointGate(concurrency=1, threshold=1, cooldown=10, clock=Clock())
    assert not gate.full("a")
    assert gate.admit("a") is None
    assert gate.full("a")  # a slot will free up: worth queuing for
    gate.release("a", succeeded=False)  # the breaker opens: not worth it
    assert not gate.full("a")


async def test_requests_queue_for_a_busy_endpoint_first_come_first_served() -> None:
    queue = SlotQueue(per_endpoint=2)
    first = asyncio.create_task(queue.wait("a", 1.0))
    second = asyncio.create_task(queue.wait("a", 1.0))
    await asyncio.sleep(0)
    assert queue.waiting("a") == 2
    assert await queue.wait("a", 1.0) is False  # the queue is full: handed back at once
    queue.freed("b")  # another endpoint's slot frees nobody here
    queue.freed("a")
    assert await first is True and not second.done()
    queue.freed("a")
    assert await second is True and queue.waiting("a") == 0


async def test_a_request_queues_for_a_slot_only_so_long() -> None:
    queue = SlotQueue(per_endpoint=4)
    assert await queue.wait("a", 0.05) is False
    assert queue.waiting("a") == 0
    queue.freed("a")  # nobody left to wake: harmless
