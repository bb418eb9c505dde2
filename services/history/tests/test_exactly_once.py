"""Exactly-once in effect: replay from offset 0, a crash between the write and the offset
commit, and a poison message, against the real broker and database."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from fastapi.testclient import TestClient
from orderflow_history.bootstrap import build_app
from orderflow_history.config import HistorySettings
from orderflow_history.paths import MIGRATIONS, SERVICE
from orderflow_history.projector import PROJECTED, Projector
from orderflow_runtime.consumer import TopicConsumer
from orderflow_runtime.kafka import Record
from orderflow_runtime.resources import open_resources
from orderflow_schemas import DeadLetter, decode
from orderflow_schemas.topics import DLQ, ORDER_ACTIONS, ORDER_EVENTS

from .conftest import API_KEY, Produce, caught_up, dump_tables, eventually, read_records
from .test_customers_api import produce_customers
from .test_timeline_api import produce_order_story


def test_replay_from_offset_zero_changes_nothing(
        client: TestClient, produce: Produce, settings: HistorySettings) -> None:
    produce_order_story(produce)
    produce_customers(produce)
    eventually(lambda: caught_up(settings, PROJECTED))
    before = dump_tables(settings.database_url)
    assert len(before["timeline"]) > 20 and len(before["customers"]) == 6

    # A second group reads every topic from offset 0 into the same tables.
    replay = settings.model_copy(update={"consumer_group": "history-replay"})
    with TestClient(build_app(replay), headers={"Authorization": f"Bearer {API_KEY}"}):
        eventually(lambda: caught_up(replay, PROJECTED))
    assert dump_tables(settings.database_url) == before


async def test_crash_between_write_and_commit_leaves_the_tables_as_they_were(
        settings: HistorySettings, produce: Produce) -> None:
    produce_order_story(produce)
    produce_customers(produce)
    async with open_resources(settings, SERVICE, MIGRATIONS) as res:
        projector = Projector(res.pool, settings.topic_prefix)
        written = asyncio.Event()

        async def write_then_die(records: Sequence[Record]) -> None:
            await projector(records)
            written.set()
            raise asyncio.CancelledError  # the process dies before the offsets are committed

        consumer = TopicConsumer(bootstrap=settings.kafka_bootstrap,
                                 group_id=settings.consumer_group, topics=PROJECTED,
                                 handler=write_then_die, producer=res.producer,
                                 service=SERVICE, prefix=settings.topic_prefix)
        task = asyncio.create_task(consumer.run())
        await asyncio.wait_for(written.wait(), 30)
        with suppress(asyncio.CancelledError):
            await task
        crashed = await asyncio.to_thread(dump_tables, settings.database_url)
        assert crashed["timeline"]
        assert not await asyncio.to_thread(caught_up, settings, PROJECTED)

        # The same records handed over again, twice, and in part: nothing changes.
        events = await asyncio.to_thread(read_records, settings, (ORDER_EVENTS,))
        await projector(events)
        once = await asyncio.to_thread(dump_tables, settings.database_url)
        await projector(events)
        await projector(events[: len(events) // 2])
        await projector(list(reversed(events)))
        assert await asyncio.to_thread(dump_tables, settings.database_url) == once
        rows = {r["message_id"]: r for r in once["timeline"]}
        assert all(rows[r["message_id"]] == r for r in crashed["timeline"])

    # The restarted service gets the uncommitted batch again and ends where a clean run ends.
    def restart() -> None:
        with TestClient(build_app(settings)):
            eventually(lambda: caught_up(settings, PROJECTED))

    await asyncio.to_thread(restart)
    after = await asyncio.to_thread(dump_tables, settings.database_url)
    assert {r["message_id"] for r in crashed["timeline"]} <= {
        r["message_id"] for r in after["timeline"]}
    assert after["orders"] == once["orders"] and after["customers"] == once["customers"]


def test_poison_message_goes_to_the_dlq_and_the_projection_goes_on(
        client: TestClient, produce: Produce, settings: HistorySettings) -> None:
    from .factories import order_event

    produce(ORDER_EVENTS, b"not json at all", key="o9")
    produce(ORDER_EVENTS, b'{"type": "order.event", "name": "orderX"}', key="o9")
    produce(ORDER_EVENTS, order_event("o9", "INITIALIZED"))
    eventually(lambda: client.get("/api/v1/orders/o9").status_code == 200)

    def letters() -> list[DeadLetter]:
        records = read_records(settings, (DLQ,))
        return [decode(DeadLetter, r.value) for r in records]

    dead = eventually(lambda: len(ls := letters()) == 2 and ls)
    assert {d.source_topic for d in dead} == {ORDER_EVENTS.qualified(settings.topic_prefix)}
    assert {d.external_order_id for d in dead} == {"o9"}
    assert "not JSON" in dead[0].reason and "externalOrderId" in dead[1].reason
    assert dead[0].original_value == b"not json at all"
    # The dead letters are themselves in the order's timeline, with their reasons.
    timeline = eventually(lambda: len((b := client.get(
        "/api/v1/orders/o9/timeline", params={"kind": "dead_letter"}).json())["entries"]) == 2
        and b)
    assert [e["data"]["service"] for e in timeline["entries"]] == ["history", "history"]


def test_a_message_sent_twice_is_in_the_timeline_once(
        client: TestClient, produce: Produce) -> None:
    """The same message at two offsets (a producer that sent it again after a crash) takes the
    projection's slow path once and is shown once, without its envelope."""
    from orderflow_schemas import OrderAction

    action = OrderAction(action="ConfirmOrder", external_order_id="o7", version_tag="v1")
    produce(ORDER_ACTIONS, action)
    produce(ORDER_ACTIONS, action, OrderAction(action="ShipOrder", external_order_id="o7",
                                               version_tag="v1"))

    def entries() -> list[dict[str, Any]] | None:
        answer = client.get("/api/v1/orders/o7/timeline")
        got = answer.json()["entries"] if answer.status_code == 200 else []
        return got if {e["name"] for e in got} == {"ConfirmOrder", "ShipOrder"} else None

    shown = eventually(entries)
    assert [e["name"] for e in shown].count("ConfirmOrder") == 1
    confirm = next(e for e in shown if e["name"] == "ConfirmOrder")
    assert confirm["id"] == action.id and confirm["data"]["versionTag"] == "v1"
    assert not {"id", "type", "version", "occurredAt", "externalOrderId"} & confirm["data"].keys()


def test_a_poison_message_in_a_batch_of_many_partitions_spares_the_rest(
        settings: HistorySettings, produce: Produce) -> None:
    """Everything is waiting before the service starts, so it comes in one batch that the
    projector splits over its lanes; the poison one is dead-lettered, every order projected."""
    from .factories import order_event

    ids = [f"lane-{n}" for n in range(40)]
    for n, order_id in enumerate(ids):
        produce(ORDER_EVENTS, order_event(order_id, "INITIALIZED", customer=f"c{n}"))
        if n == 20:
            produce(ORDER_EVENTS, b"{broken", key=order_id)
    with TestClient(build_app(settings), headers={"Authorization": f"Bearer {API_KEY}"}) as c:
        eventually(lambda: caught_up(settings, PROJECTED))
        assert all(c.get(f"/api/v1/orders/{i}").status_code == 200 for i in ids)
    dead = [decode(DeadLetter, r.value) for r in read_records(settings, (DLQ,))]
    assert [d.original_value for d in dead] == [b"{broken"]
