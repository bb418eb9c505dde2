"""Listening, conditions, CEL, explanations and firings (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from orderflow_rules import compile_condition
from orderflow_schemas import (
    ActionRequest,
    Condition,
    FiringOutcome,
    OrderEvent,
    TriggerDefinition,
    TriggerEvaluation,
    TriggerFiring,
    TriggerSpec,
)
from orderflow_trigger_engine.domain.customers import Stats, customer_view
from orderflow_trigger_engine.domain.evaluate import (
    CompiledTrigger,
    Decision,
    InvalidTrigger,
    decide,
)
from orderflow_trigger_engine.domain.events import EventView
from orderflow_trigger_engine.domain.ledger import Ledger
from orderflow_trigger_engine.domain.scope import Scope
from orderflow_trigger_engine.store.index import TriggerIndex
from pydantic import ValidationError

ITEMS = [{"category": "devices", "cost": 300, "quantity": 1},
         {"category": "books", "cost": 20, "quantity": 2}]
ORDER = {"externalOrderId": "o1", "totalCost": 1000, "status": "DELIVERED", "email": "a@b.de",
         "phone": "+49 30 901820", "deliveryMethod": "courier", "items": ITEMS}


def view(name: str = "orderDELIVERED", previous: str | None = "IN_PROGRESS",
         **kw: Any) -> EventView:
    event = OrderEvent(name=name, external_order_id="o1", status="DELIVERED",  # type: ignore[arg-type]
                       previous_status=previous, version_tag="t", order=ORDER, **kw)
    return EventView.of_event(event)


STATS = Stats(3, 99.5, "2024-01-02")


def scope(event: EventView | None = None, stats: Stats = STATS) -> Scope:
    event = event or view()
    return Scope(event, customer_view("c1", event.order, stats))


def holds(stats: Stats = STATS, **condition: Any) -> tuple[bool, Any]:
    check = compile_condition(Condition.model_validate(condition), 0)
    return check.test(scope(stats=stats))


def trigger(*conditions: dict[str, Any], tid: str = "t1", **spec: Any) -> TriggerDefinition:
    return TriggerDefinition.model_validate({
        "id": tid, "name": "hook", "event": "orderDELIVERED", "conditions": list(conditions),
        "effects": [{"type": "http", "url": "http://x/{id_order}"}], **spec})


@pytest.mark.parametrize(("condition", "expected"), [
    ({"field": "order.totalCost", "op": "gt", "value": 500}, (True, 1000)),
    ({"field": "order.totalCost", "op": "lte", "value": 500}, (False, 1000)),
    ({"field": "order.status", "op": "in", "value": ["DELIVERED", "CANCELLED"]},
     (True, "DELIVERED")),
    ({"field": "order.status", "op": "not_in", "value": ["DELIVERED"]}, (False, "DELIVERED")),
    ({"field": "order.email", "op": "contains", "value": "@b."}, (True, "a@b.de")),
    ({"field": "order.email", "op": "matches", "value": r"\.de$"}, (True, "a@b.de")),
    ({"field": "order.comment", "op": "is_empty"}, (True, None)),
    ({"field": "order.email", "op": "is_set"}, (True, "a@b.de")),
    ({"field": "order.nope", "op": "eq", "value": 1}, (False, None)),
    ({"field": "order.items.category", "op": "eq", "value": "devices"},
     (True, ["devices", "books"])),
    ({"field": "order.items.category", "op": "eq", "value": "devices", "aggregate": "all"},
     (False, ["devices", "books"])),
    ({"field": "order.items", "op": "gt", "value": 3, "aggregate": "count"}, (False, 2)),
    ({"field": "order.items.cost", "op": "eq", "value": 320, "aggregate": "sum"}, (True, 320)),
    ({"field": "customer.deliveredOrders", "op": "gte", "value": 3}, (True, 3)),
    ({"field": "customer.totalSpent", "op": "gt", "value": 100}, (False, 99.5)),
    ({"field": "customer.lastOrderDate", "op": "gt", "value": "2023-12-31"},
     (True, "2024-01-02")),
    ({"field": "customer.emailValid", "op": "eq", "value": True}, (True, True)),
    ({"field": "customer.phoneValid", "op": "eq", "value": True}, (True, True)),
    ({"expression": "order.totalCost > 500 && size(order.items) >= 2"}, (True, True)),
    ({"expression": "customer.emailValid && order.items.exists(i, i.category == 'books')"},
     (True, True)),
])
def test_each_operator_says_whether_it_holds_and_what_it_saw(
        condition: dict[str, Any], expected: tuple[bool, Any]) -> None:
    assert holds(**condition) == expected


def test_invalid_contacts_are_not_valid() -> None:
    event = EventView.of_event(OrderEvent(
        name="orderDELIVERED", external_order_id="o1", status="DELIVERED",  # type: ignore[arg-type]
        version_tag="t", order={"email": "not-an-address", "phone": "12"}))
    customer = customer_view(None, event.order, Stats())
    assert customer["emailValid"] is False and customer["phoneValid"] is False


def test_changes_of_the_event() -> None:
    changed = view(changes=[{"field": "deliveryMethod", "from": "post", "to": "courier"}])
    for condition, result in [
        ({"field": "order.deliveryMethod", "op": "changed_to", "value": "courier"}, True),
        ({"field": "order.deliveryMethod", "op": "changed_from", "value": "courier"}, False),
        ({"field": "order.deliveryMethod", "op": "changed"}, True),
        ({"field": "order.totalCost", "op": "changed"}, False),
    ]:
        check = compile_condition(Condition.model_validate(condition), 0)
        assert check.test(scope(changed))[0] is result, condition


@pytest.mark.parametrize(("body", "field"), [
    ({"conditions": [{"field": "order.x", "op": "between", "value": 1}]}, "op"),
    ({"conditions": [{"field": "order.x", "op": "matches", "value": "("}]}, "regular"),
    ({"event": "orderSHIPPED"}, "unknown event kind"),
    ({"event": {"statusChange": {"to": "LOST"}}}, "to"),
    ({"conditions": [{"field": "shop.x", "op": "eq", "value": 1}]}, "starts with"),
])
def test_invalid_definitions_are_refused(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        TriggerSpec.model_validate({"name": "n", "event": "orderDELIVERED",
                                    "effects": [{"type": "sms", "text": "hi"}], **body})


@pytest.mark.parametrize("expression", ["order.totalCost >", "shop.total > 1",
                                        "launch(order.totalCost)"])
def test_expressions_that_do_not_compile_or_name_unknown_things_are_refused(
        expression: str) -> None:
    with pytest.raises(InvalidTrigger) as caught:
        CompiledTrigger.of(trigger({"expression": expression}))
    assert caught.value.loc == ("conditions", 0, "expression")


def test_the_index_finds_only_the_triggers_listening_each_once() -> None:
    index = TriggerIndex()
    index.put(trigger(tid="name"))
    index.put(trigger(tid="status", event={"statusChange": {"from": "IN_PROGRESS",
                                                            "to": "DELIVERED"}}))
    index.put(trigger(tid="wrong-from", event={"statusChange": {"from": "INITIALIZED"}}))
    index.put(trigger(tid="field", event={"fieldChange": {"field": "deliveryMethod",
                                                          "to": "courier"}}))
    index.put(trigger(tid="any-field", event={"fieldChange": {"field": "deliveryMethod"}}))
    index.put(trigger(tid="to-post", event={"fieldChange": {"field": "deliveryMethod",
                                                            "to": "post"}}))
    index.put(trigger(tid="both", events=["orderDELIVERED", {"statusChange": {}}]))
    index.put(trigger(tid="action", event="action:ConfirmOrder"))
    index.put(trigger(tid="off", enabled=False))
    changed = view(changes=[{"field": "deliveryMethod", "from": "post", "to": "courier"}])
    assert [t.id for t in index.listening(changed)] == [
        "any-field", "both", "field", "name", "status"]
    assert [t.id for t in index.listening(view(previous="DELIVERED"))] == ["both", "name"]
    index.remove("both")
    index.put(trigger(tid="name", event="orderUPDATED", revision=2))
    index.put(trigger(tid="name", revision=1))  # late, older: ignored
    assert [t.id for t in index.listening(view(previous="DELIVERED"))] == []


@pytest.mark.parametrize("expression", [
    "order.totalCost > 500 && order.deliveryMethod == 'courier'",
    "has(order.coupon)",  # a field the order does not have stays missing
    "order.items.exists(i, i.category == 'devices') && size(order.items) == 2",
    "size(order) == 7",  # the order used whole
    "order['totalCost'] == 1000",
    "'order' in event && event.name == 'orderDELIVERED'",
    "customer.emailValid && customer.deliveredOrders == 3",
    "order.items.exists(order, order.cost > 100)",  # a macro variable named like the root
])
def test_an_expression_sees_the_same_data_whatever_the_others_on_the_event_read(
        expression: str) -> None:
    shared = scope()
    first = compile_condition(Condition(expression="order.totalCost > 1"), 0)
    assert first.test(shared) == (True, True)  # the context now holds one field of the order
    check = compile_condition(Condition(expression=expression), 1)
    assert check.test(shared) == check.test(scope())
    assert first.test(shared) == (True, True)


def read(decision: Decision) -> tuple[TriggerEvaluation, list[TriggerFiring],
                                      list[ActionRequest]]:
    """A decision as its consumers read it off the topics."""
    assert decision.evaluation is not None
    return (TriggerEvaluation.model_validate_json(decision.evaluation),
            [TriggerFiring.model_validate_json(f) for f in decision.firings],
            [ActionRequest.model_validate_json(r) for r in decision.requests])


def test_cheap_conditions_run_first_and_the_first_failure_is_named() -> None:
    t = CompiledTrigger.of(trigger(
        {"expression": "order.totalCost > 5000"},
        {"field": "order.items.category", "op": "eq", "value": "devices"},
        {"field": "order.totalCost", "op": "lt", "value": 10}))
    evaluation, firings, requests = read(decide(view(), [t], scope(), Ledger(),
                                                datetime.now(UTC)))
    assert firings == [] and requests == []
    verdict = evaluation.verdicts[0]
    assert verdict.outcome is FiringOutcome.NOT_FIRED
    assert (verdict.failed_condition, verdict.failed_value) == ("order.totalCost lt 10", 1000)


def test_a_decision_is_the_same_every_time_and_lists_every_trigger_once() -> None:
    fires = CompiledTrigger.of(trigger({"field": "order.totalCost", "op": "gt", "value": 500},
                                       tid="a"))
    fails = CompiledTrigger.of(trigger({"field": "order.totalCost", "op": "gt", "value": 5000},
                                       tid="b"))
    event = view()
    now = datetime.now(UTC)
    first, again = (read(decide(event, [fires, fails], scope(), Ledger(), now))
                    for _ in range(2))
    (evaluation, firings, requests), (evaluation2, firings2, requests2) = first, again
    assert evaluation.id == evaluation2.id and evaluation.fired == 1
    assert [f.id for f in firings] == [f.id for f in firings2]
    assert [r.id for r in requests] == [r.id for r in requests2]
    assert firings[0].action_request_ids == [requests[0].id]
    assert requests[0].order == event.order and requests[0].effect.type == "http"
    assert [v.outcome for v in evaluation.verdicts] == [FiringOutcome.FIRED,
                                                        FiringOutcome.NOT_FIRED]


def test_no_evaluation_record_when_nothing_listened() -> None:
    assert decide(view(), [], scope(), Ledger(), datetime.now(UTC)).evaluation is None


def test_outbox_frames_round_trip() -> None:
    from orderflow_schemas.topics import DLQ, TRIGGER_FIRINGS
    from orderflow_trigger_engine.store.outbox import pack, unpack

    messages = [(TRIGGER_FIRINGS, "o-ü", b'{"a": "\\"x\\""}'), (DLQ, None, b""),
                (DLQ, "", b"\x00\xff")]
    assert unpack(pack(messages)) == messages
