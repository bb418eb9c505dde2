"""Triggers with a time dimension on the real broker and database: delays that check their
conditions again, frequency limits, workflow steps with stop conditions, blocking a second start,
runs pinned to their revision, cancelled when the trigger is disabled, and the runs API. Waits
are seconds here (the engine's minimum delay is 1 s in these tests)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from orderflow_schemas import ActionRequest, TriggerFiring, decode
from orderflow_schemas.topics import ACTION_REQUESTS, ORDER_EVENTS

from .conftest import Engine, eventually
from .test_engine_integration import HOOK, evaluations, event, firings, trigger

RICH = {"field": "order.totalCost", "op": "gt", "value": 500}
CANCELLED = {"field": "order.status", "op": "eq", "value": "CANCELLED"}


@pytest.fixture(scope="module", autouse=True)
def warm(engine: Engine) -> None:
    """Delays count from when the event happened: wait until the engine reads events at once
    (its consumer has joined), so that a test's two-second delay is not spent joining."""
    tag = uuid.uuid4().hex[:6]
    engine.create(trigger(f"{tag}-warm", "orderINITIALIZED"))
    engine.produce(ORDER_EVENTS, event(f"warm-{tag}", status="INITIALIZED", previous=None))
    evaluations(engine, f"warm-{tag}")


def verdicts(engine: Engine, made: dict[str, Any], oid: str,
             count: int) -> list[dict[str, Any]]:
    """The trigger's verdicts on the order, in the order published, once there are ``count``
    (other tests' triggers listen to the same events)."""
    def found() -> list[dict[str, Any]] | None:
        mine = [v.to_dict() for e in evaluations(engine, oid) for v in e.verdicts
                if v.trigger_id == made["id"]]
        return mine if len(mine) >= count else None
    return eventually(found)[:count]


def fired(engine: Engine, made: dict[str, Any], oid: str) -> list[TriggerFiring]:
    return [f for f in firings(engine, oid) if f.trigger_id == made["id"]]


def requested(engine: Engine, made: dict[str, Any], oid: str) -> list[ActionRequest]:
    return [r for v in engine.outputs.of(ACTION_REQUESTS, oid)
            if (r := decode(ActionRequest, v)).trigger_id == made["id"]]


def runs(engine: Engine, trigger_id: str, **params: Any) -> list[dict[str, Any]]:
    r = engine.client.get(f"/api/v1/triggers/{trigger_id}/runs", params=params)
    assert r.status_code == 200, r.text
    return r.json()["runs"]  # type: ignore[no-any-return]


def test_a_delay_fires_when_the_conditions_still_hold_and_says_why_not_when_they_do_not(
        engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-delay", "orderDELIVERED", RICH, delay="PT2S"))
    held, dropped = f"held-{tag}", f"dropped-{tag}"
    engine.produce(ORDER_EVENTS, event(held, sequence=1))
    engine.produce(ORDER_EVENTS, event(dropped, sequence=1))
    first = verdicts(engine, made, held, 1)[0]
    assert first["outcome"] == "scheduled" and first["dueAt"] and first["step"] == 0
    assert fired(engine, made, held) == []
    # Before the delay ends, the second order's total drops below the condition.
    engine.produce(ORDER_EVENTS, event(dropped, status="DELIVERED", previous="DELIVERED",
                                       name="orderUPDATED", sequence=2, totalCost=100))
    done = eventually(lambda: fired(engine, made, held), timeout=15)
    assert [(f.trigger_id, f.revision, f.step) for f in done] == [(made["id"], 1, 0)]
    due = datetime.fromisoformat(first["dueAt"])
    assert datetime.now(UTC) >= due
    after = eventually(lambda: [v for v in verdicts(engine, made, dropped, 2)
                                if v["outcome"] == "not_fired"], timeout=15)
    assert after[0]["failedCondition"] == "order.totalCost gt 500"
    assert after[0]["failedValue"] == 100 and "no longer held" in after[0]["reason"]
    assert fired(engine, made, dropped) == []
    states = {r["externalOrderId"]: r["state"] for r in runs(engine, made["id"])}
    assert states == {held: "done", dropped: "not_fired"}


def test_delay_minutes_is_a_delay_and_dry_run_says_when(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-minutes", "orderDELIVERED", delayMinutes=30))
    assert made["delay"] == "PT30M" and made["delayMinutes"] == 30
    before = datetime.now(UTC)
    r = engine.client.post(f"/api/v1/triggers/{made['id']}/dry-run",
                           json={"order": event(f"o-{tag}").order})
    when = datetime.fromisoformat(r.json()["when"])
    assert timedelta(minutes=29) < when - before < timedelta(minutes=31)


def test_a_closed_window_waits_for_the_next_opening(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    in_two_days = (datetime.now(UTC) + timedelta(days=2)).date()
    made = engine.create(trigger(f"{tag}-window", "orderDELIVERED", schedule={
        "mode": "window", "weekdays": [in_two_days.isoweekday()], "start": "08:00",
        "end": "09:00", "timezone": "UTC"}))
    engine.produce(ORDER_EVENTS, event(f"w-{tag}"))
    verdict = verdicts(engine, made, f"w-{tag}", 1)[0]
    assert verdict["outcome"] == "scheduled"
    assert datetime.fromisoformat(verdict["dueAt"]) == datetime(
        in_two_days.year, in_two_days.month, in_two_days.day, 8, 0, tzinfo=UTC)
    [run] = runs(engine, made["id"], state="waiting")
    assert run["externalOrderId"] == f"w-{tag}" and run["step"] == 0


def test_frequency_every_once_and_once_per_period(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    engine.create(trigger(f"{tag}-every", "orderUPDATED"))
    engine.create(trigger(f"{tag}-once", "orderUPDATED", frequency={"mode": "once"}))
    engine.create(trigger(f"{tag}-period", "orderUPDATED",
                          frequency={"mode": "once_per_period", "period": "PT3S"}))
    oid = f"f-{tag}"
    for seq in (1, 2):
        engine.produce(ORDER_EVENTS, event(oid, name="orderUPDATED", sequence=seq))
    found = evaluations(engine, oid, 2)
    outcome = [{v.trigger_name.split("-")[1]: v.outcome.value for v in e.verdicts}
               for e in found]
    assert outcome == [{"every": "fired", "once": "fired", "period": "fired"},
                       {"every": "fired", "once": "skipped", "period": "skipped"}]
    reasons = {v.trigger_name: v.reason for v in found[1].verdicts if v.reason}
    assert "once per order" in reasons[f"{tag}-once"]
    assert "once per PT3S" in reasons[f"{tag}-period"]
    time.sleep(3.2)  # the period is over
    engine.produce(ORDER_EVENTS, event(oid, name="orderUPDATED", sequence=3))
    third = evaluations(engine, oid, 3)[2]
    assert {v.trigger_name.split("-")[1]: v.outcome.value for v in third.verdicts} == \
        {"every": "fired", "once": "skipped", "period": "fired"}


def test_a_frequency_limit_holds_when_delayed_runs_come_due(engine: Engine) -> None:
    """Two delayed runs of a once-per-order trigger, both scheduled before either fired: when
    they come due the first fires and the second is skipped; an every-time trigger beside it
    fires for both (the scheduler reads when a trigger last fired only for limited ones)."""
    tag = uuid.uuid4().hex[:6]
    once = engine.create(trigger(f"{tag}-once", "orderUPDATED", delay="PT2S",
                                 frequency={"mode": "once"}))
    every = engine.create(trigger(f"{tag}-every", "orderUPDATED", delay="PT2S"))
    oid = f"q-{tag}"
    engine.produce(ORDER_EVENTS, event(oid, name="orderUPDATED", sequence=1))
    assert verdicts(engine, once, oid, 1)[0]["outcome"] == "scheduled"
    time.sleep(1)  # the second comes due a second later, in another pass than the first
    engine.produce(ORDER_EVENTS, event(oid, name="orderUPDATED", sequence=2))
    assert [v["outcome"] for v in verdicts(engine, once, oid, 2)] == ["scheduled"] * 2
    due = eventually(lambda: [v for v in verdicts(engine, once, oid, 4)[2:]], timeout=15)
    assert sorted(v["outcome"] for v in due) == ["fired", "skipped"]
    assert "once per order" in next(v["reason"] for v in due if v["outcome"] == "skipped")
    assert len(eventually(lambda: len(f := fired(engine, every, oid)) == 2 and f,
                          timeout=15)) == 2
    time.sleep(0.5)  # nothing more comes for the limited one
    assert len(fired(engine, once, oid)) == 1
    states = sorted(r["state"] for r in runs(engine, once["id"], order=oid))
    assert states == ["done", "skipped"]


def test_a_workflow_step_follows_and_a_stop_condition_between_steps_stops_it(
        engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    review = [{"type": "http", "method": "POST", "url": "http://127.0.0.1:9/review/{id_order}",
               "expectedStatus": [200]}]
    made = engine.create(trigger(f"{tag}-flow", "orderDELIVERED", stopWhen=[CANCELLED],
                                 steps=[{"after": "PT2S", "effects": review}]))
    done, stopped = f"done-{tag}", f"stop-{tag}"
    engine.produce(ORDER_EVENTS, event(done, sequence=1))
    engine.produce(ORDER_EVENTS, event(stopped, sequence=1))
    start = verdicts(engine, made, stopped, 1)[0]
    assert start["outcome"] == "fired" and start["runId"] and start["dueAt"]
    engine.produce(ORDER_EVENTS, event(stopped, status="CANCELLED", previous="DELIVERED",
                                       sequence=2))
    stop = eventually(lambda: [v for v in verdicts(engine, made, stopped, 2)
                               if v["outcome"] == "stopped"])
    assert stop[0]["failedCondition"] == "order.status eq 'CANCELLED'" and stop[0]["step"] == 1
    steps = eventually(lambda: len(f := fired(engine, made, done)) == 2 and f, timeout=15)
    assert [f.step for f in steps] == [0, 1]
    # Published with the firings, to another topic: it may show a moment later.
    requests = eventually(lambda: len(r := requested(engine, made, done)) == 2 and r)
    assert [r.effect.url for r in requests] == [  # type: ignore[union-attr]
        HOOK[0]["url"], review[0]["url"]]
    time.sleep(1.5)  # the stopped order's step was due by now
    assert [f.step for f in fired(engine, made, stopped)] == [0]
    states = {r["externalOrderId"]: (r["state"], r["step"]) for r in runs(engine, made["id"])}
    assert states == {done: ("done", 1), stopped: ("stopped", 1)}


def test_a_run_in_progress_blocks_a_second_start_when_asked(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-block", "orderUPDATED", blockWhileRunning=True,
                          steps=[{"after": "PT30S", "effects": HOOK}]))
    oid = f"b-{tag}"
    engine.produce(ORDER_EVENTS, event(oid, name="orderUPDATED", sequence=1))
    engine.produce(ORDER_EVENTS, event(oid, name="orderUPDATED", sequence=2))
    second = verdicts(engine, made, oid, 2)[1]
    assert second["outcome"] == "skipped" and "in progress" in second["reason"]


def test_a_waiting_run_keeps_its_revision_and_disabling_cancels_runs(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-pin", "orderDELIVERED", delay="PT2S"))
    oid = f"p-{tag}"
    engine.produce(ORDER_EVENTS, event(oid, sequence=1))
    assert verdicts(engine, made, oid, 1)[0]["outcome"] == "scheduled"
    other = [{**HOOK[0], "url": "http://127.0.0.1:9/changed/{id_order}"}]
    r = engine.client.put(f"/api/v1/triggers/{made['id']}",
                          json=trigger(f"{tag}-pin", "orderDELIVERED", delay="PT2S",
                                       effects=other))
    assert r.json()["revision"] == 2
    [firing] = eventually(lambda: fired(engine, made, oid), timeout=15)
    assert firing.revision == 1
    # Published with the firing, to another topic: it may show a moment later.
    [request] = eventually(lambda: requested(engine, made, oid))
    assert request.effect.url == HOOK[0]["url"]  # type: ignore[union-attr]

    late = f"c-{tag}"
    engine.produce(ORDER_EVENTS, event(late, sequence=1))
    assert verdicts(engine, made, late, 1)[0]["outcome"] == "scheduled"
    engine.client.post(f"/api/v1/triggers/{made['id']}/disable")
    cancelled = verdicts(engine, made, late, 2)[1]
    assert cancelled["outcome"] == "cancelled"
    assert cancelled["reason"] == "the trigger was disabled"
    assert runs(engine, made["id"], order=late)[0]["state"] == "cancelled"
    time.sleep(2.5)
    assert fired(engine, made, late) == []


def test_runs_are_paged_and_filtered(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    made = engine.create(trigger(f"{tag}-page", "orderDELIVERED", delay="PT1H"))
    for i in range(5):
        engine.produce(ORDER_EVENTS, event(f"r{i}-{tag}", sequence=1))
    eventually(lambda: len(runs(engine, made["id"])) == 5)
    first = engine.client.get(f"/api/v1/triggers/{made['id']}/runs", params={"limit": 3}).json()
    second = engine.client.get(f"/api/v1/triggers/{made['id']}/runs",
                               params={"limit": 3, "after": first["nextAfter"]}).json()
    ids = [r["runId"] for r in first["runs"] + second["runs"]]
    assert len(ids) == len(set(ids)) == 5 and second["nextAfter"] is None
    assert [r["state"] for r in runs(engine, made["id"], state="done")] == []
    assert engine.client.get("/api/v1/triggers/nope/runs").status_code == 404
    assert engine.client.get(f"/api/v1/triggers/{made['id']}/runs",
                             params={"state": "sleeping"}).status_code == 422
