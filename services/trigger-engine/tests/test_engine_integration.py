"""The trigger-engine on the real broker and database: each kind of listening, operators over
items and customers, CEL, an edit reaching the worker within 2 s, dry runs, poison to the DLQ,
redelivered events deciding nothing new, a failed publish going out before the next batch, and
a frequency limit arriving while a batch is decided."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from confluent_kafka import KafkaError, KafkaException
from orderflow_runtime.consumer import RetryBatch
from orderflow_runtime.kafka import Record
from orderflow_schemas import DeadLetter, OrderAction, OrderEvent, decode
from orderflow_schemas.topics import (
    ACTION_REQUESTS,
    DLQ,
    ORDER_ACTIONS,
    ORDER_EVENTS,
    TRIGGER_EVALUATIONS,
    TRIGGER_FIRINGS,
)
from orderflow_schemas.triggers import TriggerDefinition, TriggerEvaluation, TriggerFiring
from orderflow_trigger_engine.consumers.order_events import OrderEventsHandler
from orderflow_trigger_engine.store import outbox
from orderflow_trigger_engine.store.index import TriggerIndex

from .conftest import Engine, eventually

HOOK = [{"type": "http", "method": "POST", "url": "http://127.0.0.1:9/{id_order}",
         "expectedStatus": [200]}]


def order(oid: str, status: str = "DELIVERED", **extra: Any) -> dict[str, Any]:
    return {"externalOrderId": oid, "externalCustomerId": f"cust-{oid}", "totalCost": 1000,
            "status": status, "date": "2024-03-08T09:30:00+00:00", "email": "ann@example.com",
            **extra}


def event(oid: str, status: str = "DELIVERED", previous: str | None = "IN_PROGRESS",
          name: str | None = None, sequence: int = 0, changes: list[dict[str, Any]] | None = None,
          customer: str | None = None, **extra: Any) -> OrderEvent:
    return OrderEvent(name=name or f"order{status}", external_order_id=oid, status=status,  # type: ignore[arg-type]
                      previous_status=previous, version_tag=f"v{sequence}", sequence=sequence,
                      changes=changes or [], customer_id=customer,
                      order=order(oid, status, **extra))


def trigger(name: str, listen: Any = "orderDELIVERED", *conditions: dict[str, Any],
            **extra: Any) -> dict[str, Any]:
    key = "events" if isinstance(listen, list) else "event"
    return {"name": name, key: listen, "conditions": list(conditions), "delay": "PT0S",
            "schedule": {"mode": "continuous"}, "effects": HOOK, **extra}


def firings(engine: Engine, oid: str) -> list[TriggerFiring]:
    return [decode(TriggerFiring, v) for v in engine.outputs.of(TRIGGER_FIRINGS, oid)]


def evaluations(engine: Engine, oid: str, count: int = 1) -> list[TriggerEvaluation]:
    return eventually(lambda: len(found := [decode(TriggerEvaluation, v) for v in
                                            engine.outputs.of(TRIGGER_EVALUATIONS, oid)])
                      >= count and found)


def fired_names(engine: Engine, oid: str) -> list[str]:
    evaluation = evaluations(engine, oid)[0]
    return sorted(v.trigger_name for v in evaluation.verdicts if v.outcome == "fired")


def wait_held(engine: Engine, trigger_id: str, revision: int | None) -> float:
    """Seconds until the worker holds ``revision`` of the trigger (None: holds none)."""
    feed = engine.client.app.state.feed  # type: ignore[attr-defined]
    start = time.monotonic()

    def held() -> bool:
        t = feed.index.get(trigger_id)
        return (t is None) if revision is None else (t is not None
                                                     and t.definition.revision == revision)
    eventually(held, timeout=5)
    return time.monotonic() - start


def test_each_kind_of_listening_fires_once_per_change(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = [engine.create(trigger(f"{tag}-name", "orderDELIVERED")),
            engine.create(trigger(f"{tag}-status", {"statusChange": {"from": "IN_PROGRESS",
                                                                     "to": "DELIVERED"}})),
            engine.create(trigger(f"{tag}-wrong-from", {"statusChange": {"from": "CANCELLED"}})),
            engine.create(trigger(f"{tag}-courier", {"fieldChange": {"field": "deliveryMethod",
                                                                     "to": "courier"}})),
            engine.create(trigger(f"{tag}-several", ["orderDELIVERED", "orderUPDATED",
                                                     {"statusChange": {}}])),
            engine.create(trigger(f"{tag}-confirm", "action:ConfirmOrder")),
            engine.create(trigger(f"{tag}-custom", "action:GiftWrap"))]
    for t in made:
        wait_held(engine, t["id"], 1)
    oid = f"o-{tag}"
    engine.produce(ORDER_EVENTS, event(oid, changes=[
        {"field": "deliveryMethod", "from": "post", "to": "courier"}], deliveryMethod="courier"))
    assert fired_names(engine, oid) == [f"{tag}-{n}" for n in
                                        ("courier", "name", "several", "status")]
    assert len(firings(engine, oid)) == 4  # "several" matched three ways, fired once
    engine.produce(ORDER_ACTIONS, OrderAction(action="GiftWrap", external_order_id=oid,
                                              version_tag="v1"))
    evaluation = evaluations(engine, oid, 2)[1]
    assert [v.trigger_name for v in evaluation.verdicts] == [f"{tag}-custom"]
    requests = eventually(lambda: len(r := engine.outputs.of(ACTION_REQUESTS, oid)) == 5 and r)
    assert all(orjson.loads(r)["order"]["externalOrderId"] == oid for r in requests)


def test_conditions_over_items_customer_and_cel_explain_what_failed(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    items = [{"externalItemId": "i1", "name": "phone", "category": "devices", "quantity": 1,
              "cost": 900, "url": "u", "imageUrl": "i"},
             {"externalItemId": "i2", "name": "case", "category": "accessories", "quantity": 2,
              "cost": 50, "url": "u", "imageUrl": "i"}]
    cases = {
        "device": ({"field": "order.items.category", "op": "eq", "value": "devices"}, True),
        "all-devices": ({"field": "order.items.category", "op": "eq", "value": "devices",
                         "aggregate": "all"}, False),
        "over-3-items": ({"field": "order.items", "op": "gt", "value": 3,
                          "aggregate": "count"}, False),
        "sum": ({"field": "order.items.cost", "op": "eq", "value": 950, "aggregate": "sum"},
                True),
        "regex": ({"field": "order.email", "op": "matches", "value": "@example\\.com$"}, True),
        "not-in": ({"field": "order.status", "op": "not_in", "value": ["CANCELLED"]}, True),
        "is-empty": ({"field": "order.comment", "op": "is_empty"}, True),
        "email-valid": ({"field": "customer.emailValid", "op": "eq", "value": True}, True),
        "repeat-buyer": ({"field": "customer.deliveredOrders", "op": "gte", "value": 2}, True),
        "big-spender": ({"field": "customer.totalSpent", "op": "gt", "value": 5000}, False),
        "cel": ({"expression": "order.totalCost > 500 && size(order.items) >= 2"}, True),
        "cel-fails": ({"expression": "customer.totalSpent > 1000000.0"}, False),
    }
    ids = [engine.create(trigger(f"{tag}-{name}", "orderUPDATED", condition))["id"]
           for name, (condition, _) in cases.items()]
    for tid in ids:
        wait_held(engine, tid, 1)
    customer = f"c-{tag}"
    # An earlier DELIVERED order of the same customer: the engine's own figures count it.
    engine.produce(ORDER_EVENTS, event(f"p-{tag}", customer=customer, sequence=1))
    eventually(lambda: engine.client.post(f"/api/v1/triggers/{ids[0]}/dry-run", json={
        "externalOrderId": f"p-{tag}"}).status_code == 200)
    oid = f"o-{tag}"
    engine.produce(ORDER_EVENTS, event(oid, previous="DELIVERED", name="orderUPDATED",
                                       customer=customer, sequence=1, items=items))
    evaluation = evaluations(engine, oid)[0]
    verdicts = {v.trigger_name.removeprefix(f"{tag}-"): v for v in evaluation.verdicts
                if v.trigger_name.startswith(tag)}
    assert {n: v.outcome == "fired" for n, v in verdicts.items()} == \
        {n: fires for n, (_, fires) in cases.items()}
    assert verdicts["all-devices"].failed_value == ["devices", "accessories"]
    assert verdicts["over-3-items"].failed_condition == "count(order.items) gt 3"
    assert verdicts["over-3-items"].failed_value == 2
    assert verdicts["big-spender"].failed_value == 2000.0


def test_an_edit_reaches_the_running_worker_within_2_seconds(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-edit", "orderCANCELLED",
                                 {"field": "order.totalCost", "op": "gt", "value": 500}))
    wait_held(engine, made["id"], 1)
    r = engine.client.put(f"/api/v1/triggers/{made['id']}", json=trigger(
        f"{tag}-edit", "orderCANCELLED", {"field": "order.totalCost", "op": "gt", "value": 5000}))
    assert r.status_code == 200 and r.json()["revision"] == 2
    assert wait_held(engine, made["id"], 2) < 2.0
    engine.produce(ORDER_EVENTS, event(f"o-{tag}", status="CANCELLED", previous="CANCELLED"))
    verdict = next(v for v in evaluations(engine, f"o-{tag}")[0].verdicts
                   if v.trigger_id == made["id"])
    assert (verdict.revision, verdict.outcome) == (2, "not_fired")
    assert engine.client.post(f"/api/v1/triggers/{made['id']}/disable").json()["enabled"] is False
    assert wait_held(engine, made["id"], None) < 2.0
    assert engine.client.post(f"/api/v1/triggers/{made['id']}/enable").json()["revision"] == 4
    assert wait_held(engine, made["id"], 4) < 2.0
    assert engine.client.delete(f"/api/v1/triggers/{made['id']}").status_code == 204
    assert wait_held(engine, made["id"], None) < 2.0
    assert engine.client.get(f"/api/v1/triggers/{made['id']}").status_code == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"conditions": [{"field": "order.x", "op": "between", "value": 1}]}, "conditions.0.op"),
    ({"conditions": [{"field": "order.x", "op": "matches", "value": "(("}]},
     "conditions.0.value"),
    ({"conditions": [{"expression": "order.totalCost >"}]}, "conditions.0.expression"),
    ({"conditions": [{"expression": "shop.open"}]}, "conditions.0.expression"),
    ({"event": "orderLOST"}, "event"),
    ({"delay": "P1M"}, "delay"),  # a month has no fixed length
    ({"delay": "PT0.5S"}, "delay"),  # shorter than ORDERFLOW_MIN_DELAY (1 s here)
    ({"delayMinutes": -1}, "delayMinutes"),
    ({"schedule": {"mode": "window", "timezone": "Mars/Olympus"}}, "schedule.timezone"),
    ({"schedule": {"mode": "window", "start": "25:00"}}, "schedule.start"),
    ({"frequency": {"mode": "once_per_period"}}, "frequency.period"),
    ({"stopWhen": [{"expression": "order.totalCost >"}]}, "stopWhen.0.expression"),
    ({"steps": [{"after": "P1Y", "effects": [{"type": "http", "url": "http://x"}]}]},
     "steps.0.after"),
])
def test_invalid_definitions_get_422_naming_the_field(engine: Engine, change: dict[str, Any],
                                                      field: str) -> None:
    r = engine.client.post("/api/v1/triggers", json={**trigger("bad"), **change})
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


def test_a_bad_duration_or_hour_is_refused_in_words_not_with_a_regular_expression(
        engine: Engine) -> None:
    r = engine.client.post("/api/v1/triggers", json={
        **trigger("bad"), "delay": "P1M", "schedule": {"mode": "window", "end": "5pm"},
        "steps": [{"after": "14 days", "effects": [{"type": "http", "url": "http://x"}]}]})
    assert r.status_code == 422, r.text
    said = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "months and years have no fixed length): 'P1M'" in said["delay"]
    assert "ISO 8601 duration" in said["steps.0.after"] and "'14 days'" in said["steps.0.after"]
    assert "HH:MM" in said["schedule.end"]
    assert not any("\\d" in message for message in said.values()), said


def test_dry_run_explains_condition_by_condition(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-dry", "orderDELIVERED",
                                 {"field": "order.totalCost", "op": "gt", "value": 500},
                                 {"expression": "order.deliveryMethod == 'courier'"},
                                 {"field": "order.email", "op": "is_set"}))
    url = f"/api/v1/triggers/{made['id']}/dry-run"
    answer = engine.client.post(url, json={"order": order("x", deliveryMethod="post")}).json()
    assert answer["wouldFire"] is False and answer["listening"] is True
    assert [(c["holds"], c["value"]) for c in answer["conditions"]] == \
        [(True, 1000), (False, False), (True, "ann@example.com")]
    oid = f"o-{tag}"
    engine.produce(ORDER_EVENTS, event(oid, deliveryMethod="courier"))
    evaluations(engine, oid)
    seen = engine.client.post(url, json={"externalOrderId": oid}).json()
    assert seen["wouldFire"] is True and seen["when"] == "now"
    other = engine.client.post(url, json={"externalOrderId": oid,
                                          "event": {"name": "orderUPDATED"}}).json()
    assert other["listening"] is False and other["wouldFire"] is False
    assert engine.client.post(url, json={}).status_code == 422


def test_poison_goes_to_the_dlq_and_the_worker_goes_on(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    wait_held(engine, engine.create(trigger(f"{tag}-after", "orderINITIALIZED"))["id"], 1)
    bad = f"bad-{tag}"
    engine.produce(ORDER_EVENTS, b"{not json", key=bad)
    engine.produce(ORDER_EVENTS, b'{"type": "order.event", "name": 1}', key=bad)
    oid = f"o-{tag}"
    engine.produce(ORDER_EVENTS, event(oid, status="INITIALIZED", previous="INITIALIZED"))
    assert fired_names(engine, oid) == [f"{tag}-after"]
    letters = eventually(lambda: len(d := engine.outputs.of(DLQ, bad)) == 2 and d)
    reasons = [decode(DeadLetter, v).reason for v in letters]
    assert "not JSON" in reasons[0] and "invalid order.event" in reasons[1]


def test_a_redelivered_event_decides_nothing_new(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-once", "orderABANDONED_SHOPPING_CART",
                                 {"field": "order.totalCost", "op": "gt", "value": 500}))
    wait_held(engine, made["id"], 1)
    oid = f"o-{tag}"
    first = event(oid, status="ABANDONED_SHOPPING_CART", previous="ABANDONED_SHOPPING_CART")
    engine.produce(ORDER_EVENTS, first)
    fired = evaluations(engine, oid)[0]
    assert fired.fired == 1
    # The trigger changes so that the event would no longer fire it, then the same event
    # arrives again (a producer's retry or an outbox relay publishing it twice).
    engine.client.put(f"/api/v1/triggers/{made['id']}", json=trigger(
        f"{tag}-once", "orderABANDONED_SHOPPING_CART",
        {"field": "order.totalCost", "op": "gt", "value": 5000}))
    wait_held(engine, made["id"], 2)
    engine.produce(ORDER_EVENTS, first)
    # The very record handed over again, as after a crash before Faust committed its offset,
    # to a worker that starts afresh.
    record = engine.read_back(ORDER_EVENTS, oid)[0]
    app = engine.client.app
    again = OrderEventsHandler(app.state.resources.pool,  # type: ignore[attr-defined]
                               app.state.resources.producer,  # type: ignore[attr-defined]
                               app.state.feed, engine.prefix)  # type: ignore[attr-defined]
    engine.client.portal.call(again, [record])  # type: ignore[union-attr]
    marker = f"m-{tag}"
    engine.produce(ORDER_EVENTS, event(marker, status="ABANDONED_SHOPPING_CART",
                                       previous="ABANDONED_SHOPPING_CART"))
    evaluations(engine, marker)
    assert len(engine.outputs.of(TRIGGER_EVALUATIONS, oid)) == 1
    assert [f.id for f in firings(engine, oid)] == [fired.verdicts[0].firing_id]
    assert len(engine.outputs.of(ACTION_REQUESTS, oid)) == 1


def test_what_a_crash_left_in_the_outbox_is_published(engine: Engine) -> None:
    oid = f"left-{uuid.uuid4().hex[:6]}"
    firing = TriggerFiring(trigger_id="t", trigger_name="n", event_id="e", event_name="x",
                           external_order_id=oid, outcome="fired")  # type: ignore[arg-type]
    resources = engine.client.app.state.resources  # type: ignore[attr-defined]

    async def leave_and_relay() -> int:
        await resources.pool.execute(
            "INSERT INTO outbox_batches(messages, created_at) VALUES ($1, now() - interval "
            "'1 minute')", outbox.pack([(TRIGGER_FIRINGS, oid, firing.to_wire())]))
        return await outbox.relay(resources.pool, resources.producer, older_than=10)

    assert engine.client.portal.call(leave_and_relay) == 1  # type: ignore[union-attr]
    assert [f.id for f in firings(engine, oid)] == [firing.id] or eventually(
        lambda: [f.id for f in firings(engine, oid)] == [firing.id])


def test_a_stored_trigger_invalid_today_does_not_stop_the_feed(engine: Engine) -> None:
    resources = engine.client.app.state.resources  # type: ignore[attr-defined]
    old = {**trigger("old rules", "orderSHIPPED"), "enabled": True}
    engine.client.portal.call(  # type: ignore[union-attr]
        resources.pool.execute, "INSERT INTO triggers(id, name, enabled, spec) VALUES "
        "('legacy', 'old rules', true, $1)", old)
    made = engine.create(trigger(f"after-{uuid.uuid4().hex[:6]}", "orderUPDATED"))
    wait_held(engine, made["id"], 1)
    assert engine.client.app.state.feed.index.get("legacy") is None  # type: ignore[attr-defined]
    assert "worker trigger-feed stopped" not in engine.client.get("/healthz").text


class FailsOnce:
    """The service's producer, whose first send fails as a broker outage would fail it."""

    def __init__(self, producer: Any) -> None:
        self.producer, self.failed = producer, False

    async def send_many(self, topic: Any, messages: Any) -> None:
        if not self.failed:
            self.failed = True
            raise KafkaException(KafkaError(KafkaError._TRANSPORT))
        await self.producer.send_many(topic, messages)


def test_a_batch_whose_publish_failed_goes_out_before_the_next(engine: Engine) -> None:
    """A batch is published while the next is decided: when that publish fails, the next batch
    fails with it (the consumer retries), and the retry publishes both, the older first."""
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-every", "orderDELIVERED"))
    wait_held(engine, made["id"], 1)
    # Records of a topic name of its own: positions apart from the running worker's (what
    # it publishes goes to the same topics: the producer names them).
    prefix = f"{engine.prefix}{tag}."
    app = engine.client.app
    pool = app.state.resources.pool  # type: ignore[attr-defined]
    handler = OrderEventsHandler(pool, FailsOnce(app.state.resources.producer),  # type: ignore
                                 app.state.feed, prefix)  # type: ignore[attr-defined]
    oid = f"pf-{tag}"
    first, second = (event(oid, sequence=n) for n in (1, 2))
    records = [Record(ORDER_EVENTS.qualified(prefix), 0, n, oid.encode(), e.to_wire())
               for n, e in enumerate((first, second))]
    call = engine.client.portal.call  # type: ignore[union-attr]
    call(handler, records[:1])  # decided and committed; its publish fails meanwhile
    with pytest.raises(KafkaException):
        call(handler, records[1:])
    call(handler, records[1:])  # the consumer's retry
    call(handler.drain)
    # Both published by the handler itself, not left to the outbox relay.
    assert call(pool.fetchval, "SELECT count(*) FROM outbox_batches WHERE position($1 in "
                "messages) > 0", oid.encode()) == 0
    got = eventually(lambda: len(found := [f for f in firings(engine, oid)
                                           if f.trigger_id == made["id"]]) >= 2 and found)
    assert [f.event_id for f in got] == [first.id, second.id]


class LimitArrives(TriggerIndex):
    """An index to which a trigger with a frequency limit comes while a batch is decided: the
    batch starts without it (so without when triggers last fired), and ends with it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    @property
    def limits_frequency(self) -> bool:
        self.reads += 1
        return self.reads > 1


def test_a_frequency_limit_arriving_mid_batch_is_decided_with_the_last_firings(
        engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    oid = f"fl-{tag}"
    definition = TriggerDefinition.model_validate(
        {**trigger(f"{tag}-once", "orderDELIVERED", frequency={"mode": "once"}),
         "id": f"t-{tag}", "revision": 1, "enabled": True})
    index = LimitArrives()
    index.put(definition)
    app = engine.client.app
    pool = app.state.resources.pool  # type: ignore[attr-defined]
    call = engine.client.portal.call  # type: ignore[union-attr]
    # It fired for this order before: once per order means not again.
    call(pool.execute, "INSERT INTO trigger_fires(trigger_id, external_order_id, last_fired_at) "
         "VALUES ($1, $2, now() - interval '1 hour')", definition.id, oid)
    feed = SimpleNamespace(index=index)
    prefix = f"{engine.prefix}{tag}."  # positions of their own, as above
    handler = OrderEventsHandler(pool, app.state.resources.producer,  # type: ignore[attr-defined]
                                 feed, prefix)  # type: ignore[arg-type]
    record = Record(ORDER_EVENTS.qualified(prefix), 0, 0, oid.encode(), event(oid).to_wire())
    with pytest.raises(RetryBatch):
        call(handler, [record])
    call(handler, [record])  # the consumer's retry
    call(handler.drain)
    verdict = evaluations(engine, oid)[0].verdicts[0]
    assert (verdict.trigger_id, verdict.outcome) == (definition.id, "skipped")
    assert "fires once per order" in (verdict.reason or "")
    assert firings(engine, oid) == []
