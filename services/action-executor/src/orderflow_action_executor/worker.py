"""Performs due action requests: claim with a lease, check the endpoint (disabled: the request
waits; at its limit or breaker open: handed back), attempt, and hand the outcome to the
``Recorder`` (batched, fenced, through the outbox). Retries follow ``retry.decide``. The loop
wakes when the intake writes requests or a retry comes due: no fixed polling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
from orderflow_runtime.groupcommit import GroupCommit
from orderflow_schemas import (
    ActionRequest,
    HttpEffect,
)
from prometheus_client import Counter

from . import retry
from .config import ExecutorSettings
from .effects.email import send_email
from .effects.external import external_action
from .effects.http import Signer, call_url
from .effects.internal import internal
from .effects.outcome import Attempt
from .effects.sms import send_sms
from .egress import parse_allowed
from .endpoints import signing
from .endpoints import store as endpoints
from .endpoints.gate import BUSY_WAIT, EndpointGate
from .endpoints.queue import SlotQueue
from .external_actions.store import ActionStore
from .intake import CHANNEL
from .recorder import Done, Recorder
from .templates import context_for, render_url

log = logging.getLogger(__name__)
ATTEMPTS = Counter("orderflow_effect_attempts_total", "Effect attempts", ["type", "outcome"])
# How long a request may queue for a slot at a busy endpoint before it is handed back: inside
# the lease's grace (``lease_grace_seconds``, more than this), so its claim holds.
QUEUE_SECONDS = 2.0


class Worker:
    def __init__(self, settings: ExecutorSettings, pool: asyncpg.Pool, producer: Any,
                 session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.actions = ActionStore(pool, producer)
        self.pool = pool
        self.producer = producer
        self.session = session
        self.allowed = parse_allowed(settings.allowed_hosts)
        self.delays = settings.retry_delays
        self.endpoints = endpoints.EndpointStore(pool)
        self.recorder = Recorder(pool, producer, self.endpoints)
        self.gate = EndpointGate(settings.endpoint_concurrency, settings.breaker_threshold,
                                 settings.breaker_cooldown)
        self._slots = asyncio.Semaphore(settings.concurrency)
        # Four times the endpoint's slots may queue: with only as many, a crowd for one busy
        # endpoint went back to the database and its webhooks' p99 doubled (pipeline bench).
        self.slot_queue = SlotQueue(4 * settings.endpoint_concurrency)
        self._queued = 0  # tasks queuing for an endpoint's slot: they take no executor slot
        self._deferrals: GroupCommit[tuple[str, int, float]] = GroupCommit(self._defer_all)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._allow_list_only = settings.egress == "allow-list-only"
        self._running: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """New requests are in: look now (the intake calls this after each batch)."""
        self._wake.set()

    async def listen_forever(self, dsn: str) -> None:
        """Wake on the announcements of every replica (``intake.CHANNEL``), on a connection of
        its own; after a lost connection, reconnect and look once (what was announced in
        between is not lost: the rows are there)."""
        while not self._stopping.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(dsn)
                await conn.add_listener(CHANNEL, lambda *_: self.wake())
                self.wake()
                while not conn.is_closed() and not self._stopping.is_set():
                    await asyncio.sleep(1.0)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("request listener lost its connection, reconnecting",
                            extra={"error": repr(exc)})
                await asyncio.sleep(2.0)
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close()

    async def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            free = self.settings.concurrency - len(self._running) + self._queued
            claimed = await self._claim(free) if free > 0 else []
            for row in claimed:
                task = asyncio.create_task(self._perform(row))
                self._running.add(task)
                task.add_done_callback(self._done)
            if len(claimed) < free:
                await self._sleep()
            elif free <= 0:
                await self._wake.wait()  # a slot frees up (``_done``) or new work arrives
        if self._running:
            await asyncio.wait(self._running, timeout=self.settings.lease_grace_seconds)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()

    async def _sleep(self) -> None:
        """Until woken (by this replica or, through ``listen_forever``, any other), or the next
        retry or expired lease comes due, at most ``poll_interval``: no fixed polling."""
        due = await self.pool.fetchval(
            "SELECT extract(epoch FROM min(greatest(next_attempt_at, coalesce(lease_until, "
            "next_attempt_at))) - now()) FROM requests WHERE state = 'pending'")
        wait = self.settings.poll_interval if due is None else min(
            max(float(due), 0.0) + 0.01, self.settings.poll_interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)

    async def _claim(self, limit: int) -> list[asyncpg.Record]:
        # Every claim has a lease: the effect's own timeout (call URL) or ``lease_seconds``,
        # plus a grace. A claim without one (NULL) was taken again at once: the external-action
        # effect was published ten times.
        return await self.pool.fetch(
            """
            UPDATE requests SET attempts = attempts + 1, updated_at = now(),
                lease_until = now() + make_interval(secs => coalesce(
                    (payload->'effect'->>'timeoutSeconds')::float, $3) + $2)
            WHERE request_id IN (
                SELECT request_id FROM requests
                WHERE state = 'pending' AND next_attempt_at <= now()
                  AND (lease_until IS NULL OR lease_until < now())
                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING request_id, payload, attempts, attempt_base
            """, limit, self.settings.lease_grace_seconds, self.settings.lease_seconds)

    async def _perform(self, row: asyncpg.Record) -> None:
        request = ActionRequest.model_validate(row["payload"])
        number = row["attempts"]
        started = time.monotonic()
        endpoint = await self._endpoint(request)
        if endpoint is not None and endpoint.disabled_reason:
            await self._pause(request.id, number, endpoint.id)
            return
        if endpoint is not None and (wait := await self._admit(endpoint)) is not None:
            # At its limit or its breaker open: the slot goes to an endpoint that answers.
            await self._deferrals([(request.id, number, wait)])
            return
        attempt: Attempt | None = None
        try:
            async with self._slots:
                attempt = await self._attempt(request, endpoint)
        finally:
            if endpoint is not None:
                self.gate.release(endpoint.id, attempt is not None and not attempt.retryable)
                self.slot_queue.freed(endpoint.id)
        assert attempt is not None
        counted = number - row["attempt_base"]
        decision = retry.decide(attempt, counted, self.delays, self.settings.retry_jitter)
        if await self.recorder.record(Done(request, number, attempt, decision,
                                           (time.monotonic() - started) * 1000,
                                           endpoint.id if endpoint else None)):
            ATTEMPTS.labels(request.effect.type, decision.outcome.value).inc()

    async def _admit(self, endpoint: endpoints.Endpoint) -> float | None:
        """None when the gate lets the request go (queuing a little for a slot when the
        endpoint is only busy, ``QUEUE_SECONDS`` at most in all); else the seconds after which
        to ask again."""
        deadline = time.monotonic() + QUEUE_SECONDS
        # Behind those queuing already while a slot will free up for them: a newcomer that
        # took it would leave them to time out (and their webhooks seconds late). With none in
        # flight nothing would wake them, so then it asks the gate itself.
        ask = not self.slot_queue.waiting(endpoint.id) or not self.gate.full(endpoint.id)
        while True:
            wait = self.gate.busy_wait(endpoint.id)
            if ask:
                refused = self.gate.admit(endpoint.id, endpoint.rate_per_second)
                if refused is None:
                    return None
                wait = refused
                if not self.gate.full(endpoint.id):
                    # Its rate limit or breaker: no slot to queue for. The next in the queue
                    # asks too (this one may have been woken for a slot it did not take, and
                    # the queue would otherwise wait for a release that never comes).
                    self.slot_queue.freed(endpoint.id)
                    return wait
            left = deadline - time.monotonic()
            # Queue only at an endpoint that frees slots (one that has freed none for a while
            # hangs: its requests go back to the database to wait there, holding nothing).
            if left <= 0 or self._queued >= self.settings.concurrency or wait > BUSY_WAIT:
                return wait
            self._queued += 1
            self._wake.set()  # this task's executor slot is free while it queues
            try:
                if not await self.slot_queue.wait(endpoint.id, left):
                    return wait
            finally:
                self._queued -= 1
            ask = True

    async def _attempt(self, request: ActionRequest,
                       endpoint: endpoints.Endpoint | None) -> Attempt:
        """The effect performed by its performer (``effects/``); what it emits goes out with
        the attempt's result, in the recording transaction."""
        match request.effect.type:
            case "http":
                return await call_url(self.session, request, self.allowed,
                                      self._allow_list_only, self._signer(request, endpoint))
            case "sms":
                return await send_sms(self.session, request, self.settings, self.allowed)
            case "email":
                return await send_email(request, self.settings)
            case "external_action":
                return await external_action(request, self.actions)
            case "internal":
                return await internal(request, self.pool, self.settings)

    async def _endpoint(self, request: ActionRequest) -> endpoints.Endpoint | None:
        """The endpoint a call-URL effect goes to (created for its origin when none matches)."""
        if not isinstance(request.effect, HttpEffect):
            return None
        try:
            url = render_url(request.effect.url, context_for(
                request.external_order_id, request.trigger_id, request.order))
        except ValueError:
            return None  # call_url fails the effect with the template's reason
        if not url.startswith(("http://", "https://")):
            return None
        return await self.endpoints.for_url(url)

    def _signer(self, request: ActionRequest, endpoint: endpoints.Endpoint | None) -> Signer | None:
        if endpoint is None:
            return None
        live = endpoint.live_secrets(datetime.now(UTC))
        # webhook-id is the request id: the same on every retry and re-drive of the request.
        return lambda body, timestamp: signing.headers(request.id, timestamp, body, live)

    async def _pause(self, request_id: str, number: int, endpoint_id: str) -> None:
        """The endpoint is disabled: the request waits for it, and this claim is not an
        attempt (nothing was sent)."""
        await self.pool.execute(
            "UPDATE requests SET state = 'paused', attempts = attempts - 1, lease_until = NULL, "
            "endpoint_id = $3, updated_at = now() "
            "WHERE request_id = $1 AND attempts = $2 AND state = 'pending'",
            request_id, number, endpoint_id)

    async def _defer_all(self, claims: list[tuple[str, int, float]]) -> None:
        """Hand claims back, each due again in its ``wait`` seconds; not attempts. Those of
        requests deferred together go in one statement (``_deferrals``)."""
        ids, numbers, waits = zip(*claims, strict=True)
        await self.pool.execute(
            "UPDATE requests r SET attempts = r.attempts - 1, lease_until = NULL, "
            "updated_at = now(), next_attempt_at = now() + make_interval(secs => d.wait) "
            "FROM unnest($1::text[], $2::int[], $3::float8[]) AS d(request_id, attempts, wait) "
            "WHERE r.request_id = d.request_id AND r.attempts = d.attempts "
            "AND r.state = 'pending'", list(ids), list(numbers), list(waits))
