"""Every consumed topic survives poison: for each topic of the registry, each kind of poison
(not JSON, a JSON value that is not an object, another message type, a version from the
future, valid JSON of the wrong shape, a message just under the broker's 1 MB) goes to
``orderflow.dlq`` with the reason and the original bytes, from every service that consumes the
topic, and the consumer goes on: a good message after the poison is processed, and a last
poison after it is dead-lettered too.

Generic over the registry (``ALL_TOPICS``): a topic added later is poisoned as well. Which
service consumes which topic cannot be asked of the broker (Tansu lists no group members), so
today's consumers are named in ``KNOWN_CONSUMERS``; a service that dead-letters a topic not
named there is held to the same rule for every kind of poison."""

from __future__ import annotations

import base64
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import httpx
import orjson
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from orderflow_runtime.kafka import partitions_of
from orderflow_schemas import (
    ActionOutcome,
    ActionRequest,
    ActionResult,
    Comment,
    DeadLetter,
    ExternalActionDefinition,
    ExternalActionExecution,
    FiringOutcome,
    Message,
    OrderAction,
    OrderChanges,
    OrderEvent,
    OrderStatus,
    TriggerEvaluation,
    TriggerFiring,
)
from orderflow_schemas.effects import InternalEffect
from orderflow_schemas.topics import (
    ACTION_REQUESTS,
    ALL_TOPICS,
    COMMENTS,
    DLQ,
    ORDER_ACTIONS,
    ORDER_CHANGES,
    ORDER_EVENTS,
    ORDERS_INBOUND,
    Topic,
)

pytestmark = pytest.mark.e2e

KNOWN_CONSUMERS: dict[str, set[str]] = defaultdict(set)
KNOWN_CONSUMERS[ORDERS_INBOUND.name] = {"ingest"}
KNOWN_CONSUMERS[ORDER_CHANGES.name] = {"ingest"}  # history sees the events they make
for _t in ALL_TOPICS:
    if _t not in (ORDERS_INBOUND, ORDER_CHANGES, DLQ, COMMENTS):
        KNOWN_CONSUMERS[_t.name].add("history")  # history projects every other topic
KNOWN_CONSUMERS[ORDER_EVENTS.name] |= {"trigger-engine", "action-executor"}
KNOWN_CONSUMERS[ORDER_ACTIONS.name].add("trigger-engine")
KNOWN_CONSUMERS[ACTION_REQUESTS.name].add("action-executor")
KNOWN_CONSUMERS[COMMENTS.name].add("action-executor")  # history sees the comments it accepts

HUGE = 900_000  # under the producer's and the broker's 1 MB message limit


def good(topic: Topic, order_id: str) -> tuple[bytes, str | None]:
    """A valid message for ``topic`` about ``order_id`` and its message id (None: a document)."""
    samples: dict[type[Any], Callable[[], Message]] = {
        OrderEvent: lambda: OrderEvent(name="orderINITIALIZED", external_order_id=order_id,
                                       status=OrderStatus.INITIALIZED, version_tag="v1",
                                       sequence=1, order={"externalOrderId": order_id}),
        OrderAction: lambda: OrderAction(action="ConfirmOrder", external_order_id=order_id,
                                         version_tag="v1"),
        OrderChanges: lambda: OrderChanges(external_order_id=order_id,
                                           changes={"deliveryMethod": "courier"}),
        TriggerFiring: lambda: TriggerFiring(
            trigger_id="t-1", trigger_name="poison test", event_id="e-1",
            event_name="orderINITIALIZED", external_order_id=order_id,
            outcome=FiringOutcome.NOT_FIRED),
        TriggerEvaluation: lambda: TriggerEvaluation(
            event_id="e-1", event_name="orderINITIALIZED", external_order_id=order_id),
        ActionRequest: lambda: ActionRequest(
            external_order_id=order_id, trigger_id="t-1", trigger_name="poison test",
            firing_id="f-1", event_id="e-1",
            effect=InternalEffect(kind="task", params={"title": "poison test"})),
        ActionResult: lambda: ActionResult(
            request_id="r-1", external_order_id=order_id, trigger_id="t-1",
            effect_type="internal", attempt=1, outcome=ActionOutcome.SUCCEEDED),
        ExternalActionDefinition: lambda: ExternalActionDefinition(
            action_id="a-1", external_order_id=order_id, action_type="LINK",
            name={"en_US": "Refund"}, url="https://shop.example/refund"),
        ExternalActionExecution: lambda: ExternalActionExecution(
            external_order_id=order_id, action_id="a-1", action_type="LINK"),
        Comment: lambda: Comment(external_order_id=order_id, text="poison test"),
        DeadLetter: lambda: DeadLetter.of(service="test", reason="a test", value=b"x",
                                          external_order_id=order_id),
    }
    if topic is ORDERS_INBOUND:
        return orjson.dumps({"externalOrderId": order_id, "totalCost": 10, "status":
                             "INITIALIZED", "date": "2024-05-01T10:00:00+00:00",
                             "email": f"{order_id}@example.com"}), None
    make = samples.get(topic.value_model)
    if make is None:
        pytest.fail(f"no good sample of {topic.value_model.__name__} ({topic.name}): add one")
    message = make()
    return message.to_wire(), message.id


def poisons(topic: Topic, order_id: str) -> dict[str, bytes]:
    """Each kind of poison for ``topic``; the huge one first, so that every poison is followed
    by another whose dead letter shows the consumer went on."""
    sample, _ = good(topic, order_id)
    wire = orjson.loads(sample)
    kinds = {
        "huge": orjson.dumps({"externalOrderId": order_id, "pad": "x" * HUGE}),
        "not-json": b"\xff\xfe this is { not JSON",
        "not-an-object": b'["a", "list"]',
        "wrong-shape": orjson.dumps({"externalOrderId": order_id, "hello": {"world": 1}}),
    }
    if "type" in wire:  # a message: its type and version are checked
        kinds["wrong-type"] = orjson.dumps({**wire, "type": "no.such.type"})
        kinds["wrong-version"] = orjson.dumps({**wire, "version": 999})
    return kinds


def dead_letters(bootstrap: str, prefix: str) -> list[DeadLetter]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{prefix}poison-reader",
                         "enable.auto.commit": False, "fetch.message.max.bytes": 4_000_000})
    name = DLQ.qualified(prefix)
    consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING)
                     for p in partitions_of(consumer, name)])
    found: list[DeadLetter] = []
    try:
        idle = 0
        while idle < 2:
            batch = [m for m in consumer.consume(1000, 1.0) if not m.error()]
            for m in batch:
                with suppress(ValueError):  # this test's own poison on the DLQ topic
                    found.append(DeadLetter.model_validate_json(m.value()))
            idle = 0 if batch else idle + 1
    finally:
        consumer.close()
    return found


def test_every_consumed_topic_survives_each_kind_of_poison(platform: Any) -> None:
    prefix = platform.topic_prefix
    producer = Producer({"bootstrap.servers": platform.kafka_bootstrap, "linger.ms": 5})
    sent: dict[str, dict[str, bytes]] = {}
    goods: dict[str, tuple[str, str | None]] = {}
    for topic in ALL_TOPICS:
        order_id = f"poison-{uuid.uuid4().hex[:8]}"
        if topic is COMMENTS:
            # A comment is accepted only on an order the executor has seen: the order of the
            # good order event, once the executor knows it.
            order_id = goods[ORDER_EVENTS.name][0]
            with httpx.Client(headers=platform.headers, timeout=10) as http:
                _eventually(lambda o=order_id: http.get(
                    f"{platform.action_executor}/api/v1/orders/{o}/external-actions").status_code
                    == 200, what="the executor knows the order")
        if topic is ORDER_CHANGES:
            # Changes apply only to an order ingest has processed: the good inbound order's.
            order_id = goods[ORDERS_INBOUND.name][0]
            with httpx.Client(headers=platform.headers, timeout=10) as http:
                _eventually(lambda o=order_id: http.get(
                    f"{platform.ingest}/api/v1/orders/{o}").status_code == 200,
                    what="ingest processed the order")
        kinds = poisons(topic, order_id)
        value, message_id = good(topic, order_id)
        for kind, poison in kinds.items():  # one key: one partition, in this order
            producer.produce(topic.qualified(prefix), key=order_id, value=poison,
                             headers={"poison": kind})
        producer.produce(topic.qualified(prefix), key=order_id, value=value)
        kinds["after-good"] = b"not JSON, after the good message"
        producer.produce(topic.qualified(prefix), key=order_id, value=kinds["after-good"])
        sent[topic.name] = kinds
        goods[topic.name] = (order_id, message_id)
        assert producer.flush(30) == 0

    # Every expected dead letter, within a minute.
    deadline = time.monotonic() + 90
    while True:
        letters = dead_letters(platform.kafka_bootstrap, prefix)
        missing = _missing(letters, sent, prefix)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert missing == [], f"dead letters missing (topic, service, poison): {missing}"

    # The good messages were processed: visible through the services' APIs.
    with httpx.Client(headers=platform.headers, timeout=10) as http:
        for topic in ALL_TOPICS:
            order_id, message_id = goods[topic.name]
            if topic is ORDERS_INBOUND:
                _eventually(lambda o=order_id: http.get(
                    f"{platform.ingest}/api/v1/orders/{o}").status_code == 200)
            elif topic is ORDER_CHANGES:
                _eventually(lambda o=order_id: http.get(f"{platform.ingest}/api/v1/orders/{o}")
                            .json()["order"].get("deliveryMethod") == "courier",
                            what="the good changes applied")
            else:
                _eventually(lambda o=order_id, m=message_id: m in {
                    e["id"] for e in http.get(f"{platform.history}/api/v1/orders/{o}/timeline")
                    .json().get("entries", [])}, what=f"{topic.name} good message in history")


def _missing(letters: list[DeadLetter], sent: dict[str, dict[str, bytes]],
             prefix: str) -> list[tuple[str, str, str]]:
    by_topic: dict[str, list[DeadLetter]] = defaultdict(list)
    for letter in letters:
        if letter.source_topic and letter.source_topic.startswith(prefix):
            by_topic[letter.source_topic[len(prefix):]].append(letter)
    missing = []
    for name, kinds in sent.items():
        if name == DLQ.name:
            continue  # a poison on the DLQ is logged and skipped, never dead-lettered again
        services = KNOWN_CONSUMERS[name] | {d.service for d in by_topic[name]}
        for service in sorted(services):
            for kind, value in kinds.items():
                if not any(_is_letter_of(d, service, value) for d in by_topic[name]):
                    missing.append((name, service, kind))
    return missing


def _is_letter_of(letter: DeadLetter, service: str, value: bytes) -> bool:
    """The letter is ``service``'s for ``value``: the original bytes (or, for a message too big
    for a dead letter, their beginning and a reason that says so) and a reason."""
    if letter.service != service or not letter.reason:
        return False
    original = base64.b64decode(letter.value_b64)
    if original == value:
        return True
    return len(original) < len(value) and value.startswith(original) and (
        f"value of {len(value)} bytes" in letter.reason)


def _eventually(check: Callable[[], bool], what: str = "condition",
                timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held")
        time.sleep(0.5)
