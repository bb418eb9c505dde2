"""What each message becomes in the timeline (pure)."""

from __future__ import annotations

from orderflow_history.projection import timeline_row
from orderflow_schemas import Comment, DeadLetter, ExternalActionExecution, ExternalUser, OrderEvent


def test_order_event_row_leaves_the_document_to_the_orders_model() -> None:
    event = OrderEvent(name="orderDELIVERED", external_order_id="o1", status="DELIVERED",
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
