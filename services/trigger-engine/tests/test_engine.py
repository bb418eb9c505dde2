"""Conditions and firings (pure)."""

from __future__ import annotations

from orderflow_schemas import Condition, FiringOutcome, OrderEvent, TriggerDefinition
from orderflow_trigger_engine.conditions import check
from orderflow_trigger_engine.engine import EventView, evaluate

ORDER = {"externalOrderId": "o1", "totalCost": 1000, "status": "DELIVERED",
         "items": [{"category": "devices"}, {"category": "books"}]}


def view(**kw: object) -> EventView:
    event = OrderEvent(name="orderDELIVERED", external_order_id="o1", status="DELIVERED",
                       version_tag="t", order=ORDER, **kw)  # type: ignore[arg-type]
    return EventView.of_event(event)


def trigger(*conditions: dict[str, object]) -> TriggerDefinition:
    return TriggerDefinition.model_validate({
        "id": "t1", "name": "hook", "event": "orderDELIVERED", "conditions": list(conditions),
        "effects": [{"type": "http", "url": "http://x/{id_order}"}]})


def test_conditions_explain_themselves() -> None:
    v = check(Condition(field="order.totalCost", op="gt", value=500), view().context)
    assert v.holds and "1000" in v.reason
    v = check(Condition(field="order.nope", op="eq", value=1), view().context)
    assert not v.holds and "absent" in v.reason


def test_a_path_through_items_holds_if_any_item_matches() -> None:
    assert check(Condition(field="order.items.category", op="eq", value="books"),
                 view().context).holds


def test_changed_to_looks_at_the_events_changes() -> None:
    ctx = view(changes=[{"field": "deliveryMethod", "from": "post", "to": "courier"}]).context
    assert check(Condition(field="order.deliveryMethod", op="changed_to", value="courier"),
                 ctx).holds
    assert not check(Condition(field="order.deliveryMethod", op="changed_to", value="post"),
                     ctx).holds


def test_firing_and_requests_have_stable_ids() -> None:
    event = view()
    firing, requests = evaluate(trigger({"field": "order.totalCost", "op": "gt", "value": 500}),
                                event)
    again, requests_again = evaluate(
        trigger({"field": "order.totalCost", "op": "gt", "value": 500}), event)
    assert firing.outcome is FiringOutcome.FIRED and len(requests) == 1
    assert firing.id == again.id and requests[0].id == requests_again[0].id
    assert firing.action_request_ids == [requests[0].id]


def test_a_failing_condition_does_not_fire_and_says_why() -> None:
    firing, requests = evaluate(trigger({"field": "order.totalCost", "op": "gt", "value": 5000}),
                                view())
    assert firing.outcome is FiringOutcome.NOT_FIRED and requests == []
    assert firing.reasons == ["fails: order.totalCost gt 5000: value is 1000"]
