"""The message definitions: validation rules users meet, wire format, generated docs."""

from __future__ import annotations

from pathlib import Path

import orderflow_schemas
import pytest
from orderflow_schemas import (
    ALL_TOPICS,
    DeadLetter,
    DecodeError,
    OrderDocument,
    OrderEvent,
    TriggerSpec,
    decode,
    event_name,
)
from orderflow_schemas.cli import main as schemas_cli
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[3]
ITEM = {"externalItemId": "i1", "name": "Device", "quantity": 2, "cost": 495, "url": "u",
        "imageUrl": "i"}
ORDER = {"externalOrderId": "100500", "totalCost": 1000, "status": "DELIVERED",
         "date": "2017-03-08T09:30:00+02:00", "shipping": 10, "items": [ITEM]}


def test_order_with_items_that_add_up_is_valid_and_keeps_unknown_fields() -> None:
    order = OrderDocument.model_validate({**ORDER, "loyaltyTier": "gold"})
    assert order.model_dump(mode="json")["loyaltyTier"] == "gold"


def test_items_that_do_not_add_up_are_refused_with_the_sums() -> None:
    with pytest.raises(ValidationError, match="does not equal"):
        OrderDocument.model_validate({**ORDER, "totalCost": 999})


def test_currency_is_an_iso_4217_code() -> None:
    assert OrderDocument.model_validate({**ORDER, "currency": "UAH"}).currency == "UAH"
    with pytest.raises(ValidationError, match="'XYZ' is not an ISO 4217 code"):
        OrderDocument.model_validate({**ORDER, "currency": "XYZ"})


@pytest.mark.parametrize("missing", ["externalOrderId", "totalCost", "status", "date"])
def test_required_order_fields(missing: str) -> None:
    data = {k: v for k, v in ORDER.items() if k != missing}
    with pytest.raises(ValidationError) as exc:
        OrderDocument.model_validate(data)
    assert missing in {e["loc"][0] for e in exc.value.errors()}


def test_event_names_follow_seed_004() -> None:
    assert event_name("ABANDONED_SHOPPING_CART") == "orderABANDONED_SHOPPING_CART"


def test_messages_carry_type_and_version_and_round_trip() -> None:
    event = OrderEvent(name="orderDELIVERED", external_order_id="1", status="DELIVERED",
                       version_tag="t", order={"a": 1})
    wire = event.to_wire()
    assert b'"type":"order.event"' in wire and b'"version":1' in wire
    assert decode(OrderEvent, wire) == event


@pytest.mark.parametrize("raw,reason", [(b"{not json", "not JSON"), (b"[1]", "JSON object"),
                                        (b'{"type": "dead_letter"}', "expected type")])
def test_decode_explains_what_is_wrong(raw: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(OrderEvent, raw)


def test_dead_letter_keeps_the_original_bytes() -> None:
    letter = DeadLetter.of(service="s", reason="r", value=b"\x00\xffraw")
    assert decode(DeadLetter, letter.to_wire()).original_value == b"\x00\xffraw"


def test_the_issue_2_trigger_body_is_accepted() -> None:
    spec = TriggerSpec.model_validate({
        "name": "delivered hook", "enabled": True, "event": "orderDELIVERED",
        "conditions": [{"field": "order.totalCost", "op": "gt", "value": 500}],
        "delay": "PT0S", "schedule": {"mode": "continuous"},
        "effects": [{"type": "http", "method": "POST",
                     "url": "http://127.0.0.1:1/hook/{id_order}/{id_job}",
                     "expectedStatus": [200]}],
    })
    assert spec.effects[0].expected_status == [200]


def test_every_topic_is_unique_and_named_in_the_orderflow_namespace() -> None:
    names = [t.name for t in ALL_TOPICS]
    assert len(names) == len(set(names))
    assert all(n.startswith("orderflow.") for n in names)


def test_all_names_exist() -> None:
    for name in orderflow_schemas.__all__:
        assert hasattr(orderflow_schemas, name), name


def test_generated_docs_are_up_to_date() -> None:
    assert schemas_cli(["check", str(ROOT / "docs")]) == 0, "run `make docs` and commit docs/"


def test_derived_ids_are_uuid5() -> None:
    import uuid

    from orderflow_schemas.ids import derived

    ns = uuid.UUID("7b0b6f55-3c36-4f0e-8d8e-5a4c1c9e2d70")
    for name in ("", "t:e", "trigger:event:step2:3", "évaluation:ü", "x" * 500):
        assert derived(ns, name) == str(uuid.uuid5(ns, name))
