"""What each message becomes in the timeline (pure)."""

from __future__ import annotations

from orderflow_history.projection import timeline_row
from orderflow_schemas import (
    Comment,
    DeadLetter,
    ExternalActionExecution,
    ExternalUser,
    OrderEvent,
    OrderStatus,
)


def test_order_event_row_leaves_the_document_to_the_orders_model() -> None:
    event = OrderEvent(name="orderDELIVERED", external_order_id="o1", status=OrderStatus.DELIVERED,
                       version_tag="t", order={"big": "doc"}, customer_id="c1")
    row = timeline_row(event, "t/0/1")
    assert row is not None
    assert (row.kind, row.name, row.customer_id) == ("order_event", "orderDELIVERED", "c1")
    assert "order" not in row.payload and row.payload["versionTag"] == "t"


def test_external_action_keeps_the_user_and_comments_point_at_it() -> None:
    run = ExternalActionExecution(external_order_id="o1", action_id="a1", action_type="FORM",
                                  user=ExternalUser(id="u1", name="Ann"), inputs={"pct": 10})
    row = timeline_row(run, "p")
    assert row is not None and row.payload["user"] == {"id": "u1", "name": "Ann"}
    comment = timeline_row(Comment(external_order_id="o1", text="done",
                                   related_action_id="a1"), "p")
    assert comment is not None and comment.related_id == "a1"


def test_dead_letter_without_an_order_is_not_in_any_timeline() -> None:
    assert timeline_row(DeadLetter.of(service="s", reason="r", value=b"x"), "p") is None


def test_order_row_pulls_out_what_rfm_needs_and_a_batch_keeps_the_latest() -> None:
    from orderflow_history.projection import latest_per_order, order_row

    def event(status: OrderStatus, customer: str | None, doc: dict[str, object]) -> OrderEvent:
        return OrderEvent(name=f"order{status}", external_order_id="o1", status=status,
                          version_tag="t", order=doc, customer_id=customer)

    doc = {"externalCustomerId": "ext-1", "email": "a@b.c", "totalCost": 12.5,
           "date": "2017-03-08T09:30:00+02:00"}
    row = order_row(event(OrderStatus.DELIVERED, None, doc), 2, 7)
    assert (row.customer_key, row.total_cost, row.status) == ("ext-1", 12.5, "DELIVERED")
    assert row.ordered_at.isoformat() == "2017-03-08T09:30:00+02:00"
    assert order_row(event(OrderStatus.DELIVERED, "c9", doc), 2, 7).customer_key == "c9"
    assert order_row(event(OrderStatus.DELIVERED, None, {"phone": "1"}), 0, 0).customer_key == "1"
    later = order_row(event(OrderStatus.CANCELLED, None, doc), 2, 9)
    assert latest_per_order([later, row]) == [later]


def test_a_trigger_evaluation_is_one_row_naming_what_failed() -> None:
    from orderflow_schemas import FiringOutcome, TriggerEvaluation, TriggerVerdict

    verdicts = [TriggerVerdict(trigger_id=f"t{i}", trigger_name=f"n{i}", revision=1,
                               outcome=FiringOutcome.NOT_FIRED,
                               failed_condition="order.totalCost gt 500", failed_value=12)
                for i in range(1000)]
    verdicts[0] = TriggerVerdict(trigger_id="t0", trigger_name="n0", revision=2,
                                 outcome=FiringOutcome.FIRED, firing_id="f0")
    row = timeline_row(TriggerEvaluation(event_id="e1", event_name="orderDELIVERED",
                                         external_order_id="o1", fired=1, verdicts=verdicts), "p")
    assert row is not None
    assert (row.kind, row.name, row.related_id) == ("trigger_evaluation", "1 of 1000 fired", "e1")
    assert row.payload["verdicts"][1]["failedCondition"] == "order.totalCost gt 500"
    assert row.payload["verdicts"][1]["failedValue"] == 12
