"""Which event a version of an order makes (pure)."""

from __future__ import annotations

import orjson
from orderflow_ingest.events import event_for
from orderflow_ingest.intake import validate_body, validate_orders
from orderflow_ingest.versions import version_tag
from orderflow_schemas import OrderDocument

BASE = {"externalOrderId": "o1", "totalCost": 10, "status": "INITIALIZED",
        "date": "2024-01-01T10:00:00+00:00", "email": "a@example.com", "deliveryMethod": "post"}


def doc(**changes: object) -> OrderDocument:
    return OrderDocument.model_validate({**BASE, **changes})


def test_a_new_order_is_an_event_named_after_its_status() -> None:
    event = event_for(None, doc(), "e1")
    assert event is not None and event.name == "orderINITIALIZED" and event.changes == []


def test_a_status_change_is_order_status_with_the_change() -> None:
    first = event_for(None, doc(), "e1")
    assert first is not None
    event = event_for(first.order, doc(status="DELIVERED"), "e2")
    assert event is not None and event.name == "orderDELIVERED"
    assert event.previous_status == "INITIALIZED"
    assert [(c.field, c.from_, c.to) for c in event.changes] == [
        ("status", "INITIALIZED", "DELIVERED")]


def test_another_change_is_order_updated_with_field_from_to() -> None:
    first = event_for(None, doc(), "e1")
    assert first is not None
    event = event_for(first.order, doc(deliveryMethod="courier"), "e2")
    assert event is not None and event.name == "orderUPDATED"
    assert [(c.field, c.from_, c.to) for c in event.changes] == [
        ("deliveryMethod", "post", "courier")]


def test_an_identical_resend_makes_no_event_and_keeps_its_version_tag() -> None:
    first = event_for(None, doc(), "e1")
    assert first is not None
    assert event_for(first.order, doc(), "e2") is None
    assert version_tag(first.order) == first.version_tag


def test_a_batch_is_validated_order_by_order() -> None:
    accepted, rejected = validate_orders([BASE, {"externalOrderId": "bad", "status": "NOPE"},
                                          {k: v for k, v in BASE.items() if k != "email"}])
    assert [a.index for a in accepted] == [0, 2]
    assert rejected[0].index == 1 and rejected[0].external_order_id == "bad"
    assert {"status", "totalCost", "date"} <= {e["field"] for e in rejected[0].errors}
    assert "warnings" in accepted[1].answer() and "warnings" not in accepted[0].answer()


def test_the_version_tag_answered_is_the_one_the_processor_gives_the_event() -> None:
    """The HTTP answer's versionTag (fast path: all valid; slow path: order by order) is what
    the order processor computes from the bytes that go on to the inbound topic."""
    (fast,), _ = validate_body(orjson.dumps({"orders": [BASE]}))
    (slow,), _ = validate_orders([BASE, {"externalOrderId": "bad"}])
    event = event_for(None, OrderDocument.model_validate_json(fast.document), "e1")
    assert event is not None
    assert fast.version_tag == slow.version_tag == event.version_tag
    assert fast.document == slow.document
