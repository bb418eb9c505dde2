"""Orders produced straight to the inbound topic, against a real broker and database: the same
validation as HTTP, poison to the DLQ with its reason and bytes, events for bursts of updates,
customers matched across orders, and changes made inside orderflow merged onto the order as it
stands."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from orderflow_schemas import OrderChanges
from orderflow_schemas.topics import DLQ, ORDER_CHANGES, ORDER_EVENTS, ORDERS_INBOUND


def events_of(ingest: Any, order_id: str, count: int) -> list[dict[str, Any]]:
    return ingest.read(ORDER_EVENTS, until=lambda found: len(found) >= count,
                       keep=lambda m: m["externalOrderId"] == order_id)


def test_an_order_on_the_inbound_topic_becomes_an_event(ingest: Any) -> None:
    order = ingest.order()
    ingest.produce(ORDERS_INBOUND, order["externalOrderId"], orjson.dumps(order))
    [event] = events_of(ingest, order["externalOrderId"], 1)
    assert event["name"] == "orderINITIALIZED" and event["order"]["email"] == order["email"]


def test_poison_goes_to_the_dlq_with_reason_and_bytes_and_the_next_order_goes_on(
        ingest: Any) -> None:
    not_json, invalid = b"\xff{not json", orjson.dumps(ingest.order(currency="EURO", key="k-1"))
    after = ingest.order()
    for key, value in [("dlq-1", not_json), ("dlq-2", invalid)]:
        ingest.produce(ORDERS_INBOUND, key, value)
    ingest.produce(ORDERS_INBOUND, after["externalOrderId"], orjson.dumps(after))
    letters = {m["externalOrderId"]: m for m in ingest.read(
        DLQ, until=lambda found: len(found) >= 2,
        keep=lambda m: m["externalOrderId"] in ("dlq-1", "dlq-2"))}
    assert base64.b64decode(letters["dlq-1"]["valueB64"]) == not_json
    assert letters["dlq-1"]["reason"].startswith("not JSON")
    assert base64.b64decode(letters["dlq-2"]["valueB64"]) == invalid
    assert "currency" in letters["dlq-2"]["reason"]
    assert letters["dlq-2"]["service"] == "ingest"
    [event] = events_of(ingest, after["externalOrderId"], 1)
    assert event["name"] == "orderINITIALIZED"


def test_a_burst_of_updates_makes_the_right_events_in_order(ingest: Any) -> None:
    first = ingest.order(deliveryMethod="post")
    order_id = first["externalOrderId"]
    versions = [first, {**first, "status": "IN_PROGRESS"}, {**first, "status": "IN_PROGRESS"},
                {**first, "status": "IN_PROGRESS", "deliveryMethod": "courier"},
                {**first, "status": "IN_PROGRESS", "deliveryMethod": "courier"},
                {**first, "status": "DELIVERED", "deliveryMethod": "courier"}]
    for version in versions:  # the same partition, in this order, with no pause
        ingest.produce(ORDERS_INBOUND, order_id, orjson.dumps(version))
    events = events_of(ingest, order_id, 4)
    assert [e["name"] for e in events] == [
        "orderINITIALIZED", "orderIN_PROGRESS", "orderUPDATED", "orderDELIVERED"]
    assert events[2]["changes"] == [{"field": "deliveryMethod", "from": "post", "to": "courier"}]
    assert events[3]["previousStatus"] == "IN_PROGRESS"
    assert ingest.processed(order_id)["order"]["status"] == "DELIVERED"
    assert len(events_of(ingest, order_id, 4)) == 4  # the identical resends made none


def test_customers_are_matched_by_external_id_then_email_or_phone(ingest: Any) -> None:
    ext, email, phone = (f"c-{ingest.prefix}", f"x-{ingest.prefix}@example.com",
                         f"+49 170 {abs(hash(ingest.prefix)) % 10**7}")
    orders = [ingest.order(externalCustomerId=ext, email=email),
              ingest.order(externalCustomerId=ext, email=f"new-{email}"),  # a new e-mail
              ingest.order(email=f"NEW-{email}".upper(), externalCustomerId=None),
              ingest.order(email=None, phone=phone),
              ingest.order(email=f"new-{email}", phone=phone.replace(" ", "")),
              ingest.order(externalCustomerId=f"other-{ext}", email=email)]
    ids = []
    for order in orders:  # one after the other: orders of one request may be on two partitions
        [accepted] = ingest.post(order).json()["accepted"]
        ingest.processed(order["externalOrderId"], accepted["versionTag"])
        ids.append(accepted["eventId"])
    events = {m["id"]: m for m in ingest.read(ORDER_EVENTS, until=lambda f: len(f) == 6,
                                              keep=lambda m: m["id"] in ids)}
    customers = [events[i]["customerId"] for i in ids]
    assert customers[0] == customers[1] == customers[2] == customers[4]
    assert customers[3] not in customers[:3]  # a phone seen first on its own is a new customer
    assert customers[5] not in customers[:5]  # another externalCustomerId is another customer
    later = ingest.order(externalCustomerId=None, email=None, phone=phone)
    event_id = ingest.post(later).json()["accepted"][0]["eventId"]
    [event] = ingest.read(ORDER_EVENTS, until=lambda f: len(f) == 1,
                          keep=lambda m: m["id"] == event_id)
    assert event["customerId"] == customers[0]  # the phone's oldest customer


def test_changes_are_merged_onto_the_order_as_it_stands_when_ingest_reaches_them(
        ingest: Any) -> None:
    # The executor saw v1 and changes the delivery method; v2 (a new status and phone) arrived
    # in between: the change must not put v1's fields back.
    v1 = ingest.order(deliveryMethod="pickup")
    order_id = v1["externalOrderId"]
    ingest.post(v1)
    v2 = {**v1, "status": "IN_PROGRESS", "phone": "+48 601 234 567"}
    tag = ingest.post(v2).json()["accepted"][0]["versionTag"]
    ingest.processed(order_id, tag)
    changes = OrderChanges(external_order_id=order_id, changes={"deliveryMethod": "courier"})
    ingest.produce(ORDER_CHANGES, order_id, changes.to_wire())
    *_, event = events_of(ingest, order_id, 3)
    assert event["name"] == "orderUPDATED"
    assert [c["field"] for c in event["changes"]] == ["deliveryMethod"]
    now = ingest.processed(order_id, event["versionTag"])["order"]
    assert (now["status"], now["phone"], now["deliveryMethod"]) == (
        "IN_PROGRESS", "+48 601 234 567", "courier")
    # The same changes again change nothing: no event (a trigger that sets what it listens to
    # does not loop).
    ingest.produce(ORDER_CHANGES, order_id, OrderChanges(
        external_order_id=order_id, changes={"deliveryMethod": "courier"}).to_wire())
    after = ingest.order()
    ingest.post(after)
    events_of(ingest, after["externalOrderId"], 1)  # the processor has gone past the repeat
    assert len(events_of(ingest, order_id, 3)) == 3


def test_changes_to_an_unknown_order_or_that_ingest_would_refuse_go_to_the_dlq(
        ingest: Any) -> None:
    known = ingest.order()
    ingest.processed(known["externalOrderId"], ingest.post(known).json()["accepted"][0][
        "versionTag"])
    for order_id, fields in [("never-seen", {"deliveryMethod": "courier"}),
                             (known["externalOrderId"], {"totalCost": -5})]:
        ingest.produce(ORDER_CHANGES, order_id, OrderChanges(
            external_order_id=order_id, changes=fields).to_wire())
    letters = {m["externalOrderId"]: m["reason"] for m in ingest.read(
        DLQ, until=lambda found: len(found) >= 2,
        keep=lambda m: m["externalOrderId"] in ("never-seen", known["externalOrderId"]))}
    assert "ingest has not processed" in letters["never-seen"]
    assert "totalCost" in letters[known["externalOrderId"]]
