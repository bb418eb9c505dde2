"""``wire_of``: what the hot paths put on topics without building the model reads back as the
model built from the same values."""

from datetime import UTC, datetime

import pytest
from orderflow_schemas import (
    ActionRequest,
    FiringOutcome,
    TriggerEvaluation,
    TriggerFiring,
    TriggerVerdict,
    WireModel,
)
from orderflow_schemas.effects import HttpEffect

AT = datetime(2026, 11, 29, 10, 0, 1, 250000, tzinfo=UTC)
ORDER = {"externalOrderId": "o-1", "totalCost": 990.5, "items": [{"category": "devices"}],
         "note": "żółw ☃"}


def verdict(**more: object) -> dict[str, object]:
    return dict(trigger_id="t-1", trigger_name="big orders", revision=3,
                outcome=FiringOutcome.NOT_FIRED, failed_condition="order.totalCost gt 500",
                failed_value=12.5, **more)


@pytest.mark.parametrize("model, values", [
    (TriggerFiring, dict(id="f-1", occurred_at=AT, trigger_id="t-1", trigger_name="big orders",
                         revision=3, event_id="e-1", event_name="orderDELIVERED",
                         external_order_id="o-1", outcome=FiringOutcome.FIRED,
                         reasons=["holds: order.totalCost gt 500: 990.5"],
                         action_request_ids=["r-1"], step=1)),
    (ActionRequest, dict(id="r-1", occurred_at=AT, external_order_id="o-1", trigger_id="t-1",
                         trigger_name="big orders", firing_id="f-1", event_id="e-1",
                         effect=HttpEffect(url="http://sink.test/{id_order}"), order=ORDER,
                         customer_id=None)),
    (TriggerEvaluation, dict(id="v-1", occurred_at=AT, event_id="e-1",
                             event_name="orderDELIVERED", external_order_id="o-1", fired=0,
                             verdicts=[TriggerVerdict(**verdict()),
                                       TriggerVerdict(**verdict(due_at=AT, run_id="run-1"))])),
])
def test_wire_of_reads_back_as_the_model(model: type[WireModel], values: dict[str, object]) -> None:
    built = model(**values)
    # Nested messages go in as their wire dicts, as the engine passes them.
    fast = {k: ([x.to_dict() for x in v] if k == "verdicts" else
                v.to_dict() if k == "effect" else v) for k, v in values.items()}  # type: ignore[attr-defined]
    read = model.model_validate_json(model.wire_of(**fast))
    assert read == built
    assert read.to_dict() == built.to_dict()


def test_wire_of_fills_defaults_and_refuses_what_the_model_lacks() -> None:
    one, two = (TriggerFiring.model_validate_json(TriggerFiring.wire_of(
        trigger_id="t", trigger_name="n", event_id="e", event_name="x", external_order_id="o",
        outcome=FiringOutcome.FIRED)) for _ in range(2))
    assert one.id != two.id and one.occurred_at.tzinfo is not None
    assert (one.type, one.version, one.revision, one.reasons) == ("trigger.firing", 1, 1, [])
    with pytest.raises(TypeError, match="no field"):
        TriggerFiring.wire_of(trigger_id="t", trigger_name="n", event_id="e", event_name="x",
                              external_order_id="o", outcome="fired", tirgger="typo")
    with pytest.raises(TypeError, match="needs event_id"):
        TriggerFiring.wire_of(trigger_id="t", trigger_name="n", event_name="x",
                              external_order_id="o", outcome="fired")
