"""The order timeline, the order JSON and the event history, over HTTP, projected from the real
broker into the real database."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from orderflow_schemas import (
    ActionOutcome,
    ActionRequest,
    ActionResult,
    Comment,
    DeadLetter,
    ExternalActionDefinition,
    ExternalActionExecution,
    ExternalUser,
    FiringOutcome,
    HttpEffect,
    OrderAction,
    TriggerFiring,
)
from orderflow_schemas.topics import (
    ACTION_REQUESTS,
    ACTION_RESULTS,
    COMMENTS_ACCEPTED,
    DLQ,
    EXTERNAL_ACTION_DEFINITIONS,
    EXTERNAL_ACTIONS,
    ORDER_ACTIONS,
    ORDER_EVENTS,
    TRIGGER_FIRINGS,
)

from .conftest import Produce, eventually
from .factories import T0, order_event


def at(minutes: int):  # type: ignore[no-untyped-def]
    return T0 + timedelta(minutes=minutes)


def produce_order_story(produce: Produce) -> None:
    """One order through every kind of timeline entry, in the order they happened."""
    created = order_event("o1", "INITIALIZED", at=at(1))
    produce(ORDER_EVENTS, created)
    produce(ORDER_ACTIONS, OrderAction(action="ConfirmOrder", external_order_id="o1",
                                       version_tag="v1", occurred_at=at(2)))
    firing = TriggerFiring(trigger_id="t1", trigger_name="notify", event_id=created.id,
                           event_name=created.name, external_order_id="o1",
                           outcome=FiringOutcome.FIRED, occurred_at=at(3))
    produce(TRIGGER_FIRINGS, firing)
    request = ActionRequest(external_order_id="o1", trigger_id="t1", trigger_name="notify",
                            firing_id=firing.id, event_id=created.id,
                            effect=HttpEffect(url="http://example.com/hook"), occurred_at=at(4))
    produce(ACTION_REQUESTS, request)
    produce(ACTION_RESULTS, ActionResult(request_id=request.id, external_order_id="o1",
                                         trigger_id="t1", effect_type="http", attempt=1,
                                         outcome=ActionOutcome("succeeded"), http_status=200,
                                         occurred_at=at(5)))
    produce(EXTERNAL_ACTION_DEFINITIONS, ExternalActionDefinition(
        action_id="a1", external_order_id="o1", action_type="FORM",
        name={"en_US": "Refund 10%"}, occurred_at=at(6)))
    produce(EXTERNAL_ACTIONS, ExternalActionExecution(
        external_order_id="o1", action_id="a1", action_type="FORM",
        user=ExternalUser(id="u1", name="Ann"), inputs={"pct": 10}, occurred_at=at(7)))
    produce(COMMENTS_ACCEPTED, Comment(external_order_id="o1", text="refunded", author="payments",
                                       related_action_id="a1", occurred_at=at(8)),
                     Comment(external_order_id="o1", text="VIP customer", author="crm",
                             occurred_at=at(9)))
    produce(DLQ, DeadLetter.of(service="trigger-engine", reason="bad template", value=b"{}",
                               external_order_id="o1").model_copy(update={"occurred_at": at(10)}))
    produce(ORDER_EVENTS, order_event("o1", "DELIVERED", at=at(11), version=2))


def test_timeline_has_every_kind_in_order_with_users_and_nested_comments(
        client: TestClient, produce: Produce) -> None:
    produce_order_story(produce)
    body = eventually(lambda: (r := client.get("/api/v1/orders/o1/timeline")).status_code == 200
                      and len(r.json()["entries"]) == 11 and r.json())
    kinds = [e["kind"] for e in body["entries"]]
    assert kinds == ["order_event", "order_action", "trigger_firing", "effect_requested",
                     "effect_succeeded", "external_action_defined", "external_action", "comment",
                     "comment", "dead_letter", "order_event"]
    action = body["entries"][6]
    assert action["data"]["user"] == {"id": "u1", "name": "Ann"}
    assert [c["data"]["text"] for c in action["comments"]] == ["refunded"]
    assert body["entries"][8]["relatedId"] is None  # a comment on the order itself
    assert body["entries"][9]["data"]["reason"] == "bad template"
    assert body["nextCursor"] is None

    only = client.get("/api/v1/orders/o1/timeline",
                      params=[("kind", "comment"), ("kind", "order_action")]).json()
    assert [e["kind"] for e in only["entries"]] == ["order_action", "comment", "comment"]

    pages, cursor = [], None
    while True:
        page = client.get("/api/v1/orders/o1/timeline",
                          params={"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        pages.append([e["id"] for e in page["entries"]])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [4, 4, 3]
    assert sum(pages, []) == [e["id"] for e in body["entries"]]


def test_timeline_and_order_errors(client: TestClient, produce: Produce) -> None:
    produce(ORDER_EVENTS, order_event("o1", "INITIALIZED"))
    eventually(lambda: client.get("/api/v1/orders/o1").status_code == 200)
    assert client.get("/api/v1/orders/nope").status_code == 404
    assert client.get("/api/v1/orders/nope/timeline").status_code == 404
    bad = client.get("/api/v1/orders/o1/timeline", params={"cursor": "not-a-cursor!"})
    assert bad.status_code == 400
    assert client.get("/api/v1/events", params={"cursor": "%%%"}).status_code == 400
    assert client.get("/api/v1/orders/o1/timeline", params={"limit": 0}).status_code == 400
    assert client.get("/api/v1/orders/o1", headers={"Authorization": ""}).status_code == 401


def test_order_json_is_the_last_processed_with_its_version_tag(
        client: TestClient, produce: Produce) -> None:
    produce(ORDER_EVENTS, order_event("o1", "INITIALIZED", version=1),
            order_event("o1", "IN_PROGRESS", version=2, deliveryMethod="express"))
    body = eventually(lambda: (r := client.get("/api/v1/orders/o1")).status_code == 200
                      and r.json()["versionTag"] == "v2" and r.json())
    assert body["status"] == "IN_PROGRESS" and body["customerId"] == "c1"
    assert body["order"]["deliveryMethod"] == "express"
    assert body["order"]["externalOrderId"] == "o1"


def test_event_history_filters_and_pages_newest_first(
        client: TestClient, produce: Produce) -> None:
    produce(ORDER_EVENTS,
            order_event("o1", "INITIALIZED", customer="c1", at=at(1)),
            order_event("o1", "DELIVERED", customer="c1", at=at(2), version=2),
            order_event("o2", "INITIALIZED", customer="c2", at=at(3)),
            order_event("o2", "CANCELLED", customer="c2", at=at(4), version=2),
            order_event("o3", "INITIALIZED", customer="c1", at=at(5)))
    produce(ORDER_ACTIONS, OrderAction(action="ShipOrder", external_order_id="o1",
                                       version_tag="v2", occurred_at=at(6)))

    def events(**params: object) -> list[tuple[str, str]]:
        body = client.get("/api/v1/events", params=params).json()
        return [(e["externalOrderId"], e["name"]) for e in body["events"]]

    everything = eventually(lambda: len(events()) == 5 and events())
    assert everything == [("o3", "orderINITIALIZED"), ("o2", "orderCANCELLED"),
                          ("o2", "orderINITIALIZED"), ("o1", "orderDELIVERED"),
                          ("o1", "orderINITIALIZED")]  # newest first, actions are not events
    assert events(name="orderINITIALIZED") == [("o3", "orderINITIALIZED"),
                                               ("o2", "orderINITIALIZED"),
                                               ("o1", "orderINITIALIZED")]
    assert events(order="o2") == [("o2", "orderCANCELLED"), ("o2", "orderINITIALIZED")]
    assert events(customer="c1") == [("o3", "orderINITIALIZED"), ("o1", "orderDELIVERED"),
                                     ("o1", "orderINITIALIZED")]
    assert events(since=at(2).isoformat(), until=at(4).isoformat()) == [
        ("o2", "orderINITIALIZED"), ("o1", "orderDELIVERED")]
    assert events(customer="c1", name="orderDELIVERED") == [("o1", "orderDELIVERED")]
    assert events(customer="nobody") == []

    first = client.get("/api/v1/events", params={"limit": 2}).json()
    assert len(first["events"]) == 2 and first["nextCursor"]
    second = client.get("/api/v1/events", params={"limit": 2, "cursor": first["nextCursor"]})
    third = client.get("/api/v1/events",
                       params={"limit": 2, "cursor": second.json()["nextCursor"]}).json()
    ids = [e["externalOrderId"] for p in (first, second.json(), third) for e in p["events"]]
    assert ids == ["o3", "o2", "o2", "o1", "o1"] and third["nextCursor"] is None
    assert first["events"][0]["data"]["versionTag"] == "v1"


def test_a_trigger_evaluation_is_one_timeline_entry_explaining_every_trigger(
        client: TestClient, produce: Produce) -> None:
    from orderflow_schemas import TriggerEvaluation, TriggerVerdict
    from orderflow_schemas.topics import TRIGGER_EVALUATIONS

    created = order_event("o1", "INITIALIZED", at=at(1))
    produce(ORDER_EVENTS, created)
    verdicts = [TriggerVerdict(trigger_id=f"t{i}", trigger_name=f"rule {i}", revision=1,
                               outcome=FiringOutcome.NOT_FIRED,
                               failed_condition="order.totalCost gt 500", failed_value=100)
                for i in range(300)]
    produce(TRIGGER_EVALUATIONS, TriggerEvaluation(
        event_id=created.id, event_name=created.name, external_order_id="o1", fired=0,
        verdicts=verdicts, occurred_at=at(2)))
    body = eventually(lambda: (r := client.get("/api/v1/orders/o1/timeline")).status_code == 200
                      and len(r.json()["entries"]) == 2 and r.json())
    entry = body["entries"][1]
    assert (entry["kind"], entry["name"]) == ("trigger_evaluation", "0 of 300 fired")
    assert entry["data"]["verdicts"][299] == {
        "triggerId": "t299", "triggerName": "rule 299", "revision": 1, "outcome": "not_fired",
        "firingId": None, "failedCondition": "order.totalCost gt 500", "failedValue": 100,
        "runId": None, "step": None, "dueAt": None, "reason": None}
