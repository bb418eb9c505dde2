"""The orders read model moves forward only: an older version of an order that comes again at
a newer offset (the outbox re-publishing it, a redelivery) never replaces a newer one. Real
broker and database, through the running service."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from orderflow_history.config import HistorySettings
from orderflow_history.projection import latest_per_order, order_row
from orderflow_history.projector import PROJECTED
from orderflow_schemas.topics import ORDER_EVENTS

from .conftest import Produce, caught_up, eventually
from .factories import order_event


def test_a_re_published_older_event_does_not_move_an_order_back(
        client: TestClient, produce: Produce, settings: HistorySettings) -> None:
    order_id = f"fw-{uuid.uuid4().hex[:8]}"
    first = order_event(order_id, "INITIALIZED", version=1).model_copy(update={"sequence": 1})
    second = order_event(order_id, "DELIVERED", version=2).model_copy(update={"sequence": 2})
    produce(ORDER_EVENTS, first, second, first)  # the first again, at a newer offset
    eventually(lambda: caught_up(settings, PROJECTED))
    order = client.get(f"/api/v1/orders/{order_id}").json()
    assert (order["status"], order["versionTag"]) == ("DELIVERED", "v2")
    timeline = client.get(f"/api/v1/orders/{order_id}/timeline").json()
    assert len(timeline["entries"]) == 2  # the copy is the same message: one entry

    third = order_event(order_id, "CANCELLED", version=3).model_copy(update={"sequence": 3})
    produce(ORDER_EVENTS, third, second)
    eventually(lambda: caught_up(settings, PROJECTED))
    order = client.get(f"/api/v1/orders/{order_id}").json()
    assert (order["status"], order["versionTag"]) == ("CANCELLED", "v3")


def test_in_a_batch_the_highest_sequence_wins_and_offsets_only_break_ties() -> None:
    newer = order_row(order_event("o", "DELIVERED").model_copy(update={"sequence": 2}), 0, 5)
    older = order_row(order_event("o", "INITIALIZED").model_copy(update={"sequence": 1}), 0, 9)
    assert latest_per_order([newer, older]) == [newer]
    legacy_late = order_row(order_event("o", "CANCELLED"), 0, 9)
    legacy_early = order_row(order_event("o", "INITIALIZED"), 0, 3)
    assert latest_per_order([legacy_late, legacy_early]) == [legacy_late]
    assert latest_per_order([newer, legacy_late]) == [newer]
