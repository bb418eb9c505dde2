"""External actions (issue 12) against a real broker and PostgreSQL, over HTTP and topics:
definitions with versions, FORM validation, templates for every order, the menu in a locale,
executions by named users, trigger effects that fire or define one, and comments on both paths
(a relation to another order's action, or to none, is refused: 422 over HTTP, the DLQ on the
topic)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from orderflow_action_executor.config import ExecutorSettings
from orderflow_devstack.topics import read_all
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import (
    ActionRequest,
    Comment,
    DeadLetter,
    ExternalActionDefinition,
    ExternalActionEffect,
    ExternalActionExecution,
    OrderEvent,
    decode,
)
from orderflow_schemas.topics import (
    ACTION_REQUESTS,
    COMMENTS,
    COMMENTS_ACCEPTED,
    DLQ,
    EXTERNAL_ACTION_DEFINITIONS,
    EXTERNAL_ACTIONS,
    ORDER_EVENTS,
)

from .conftest import serving

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEY = "xa-key"
FORM = {"type": "FORM", "name": {"en_US": "Reduce payment", "de_DE": "Zahlung kürzen"},
        "groups": ["payments"],
        "elements": [{"kind": "headline", "text": {"en_US": "Payment adjustment"}},
                     {"kind": "input", "id": "percent", "inputType": "integer",
                      "mandatory": True, "min": 1, "max": 50, "label": {"en_US": "Percent"}}],
        "confirmLabel": {"en_US": "Reduce"}, "cancelLabel": {"en_US": "Cancel"}}
LINK = {"type": "LINK", "name": {"en_US": "Open in shop"}, "groups": ["shop"],
        "url": "https://shop.example/orders/{id_order}?total={order.totalCost}"}
USER = {"id": "u-7", "name": "Shift Lead"}


@dataclass
class Executor:
    api: httpx.AsyncClient
    producer: EventProducer
    prefix: str
    bootstrap: str

    async def order(self, total: float = 99.0, **fields: Any) -> str:
        """A new order, and once the executor knows it, its id."""
        order_id = f"xa-{uuid.uuid4().hex[:10]}"
        document = {"externalOrderId": order_id, "status": "INITIALIZED", "totalCost": total,
                    **fields}
        await self.producer.send(ORDER_EVENTS, order_id, OrderEvent(
            name="orderINITIALIZED", external_order_id=order_id, status="INITIALIZED",
            version_tag="1", sequence=1, order=document))
        for _ in range(150):
            if (await self.api.get(f"/api/v1/orders/{order_id}/external-actions")).status_code \
                    == 200:
                return order_id
            await asyncio.sleep(0.1)
        raise AssertionError(f"the executor never saw order {order_id}")

    async def read(self, topic: Any, needle: str, count: int = 1) -> list[bytes]:
        return await read_all(self.bootstrap, topic, self.prefix, lambda v: len(v) >= count,
                              keep=lambda v: needle.encode() in v)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def executor(kafka_bootstrap: str, database_url: str) -> AsyncIterator[Executor]:
    prefix = f"xa{uuid.uuid4().hex[:8]}."
    settings = ExecutorSettings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=prefix,
        api_keys=KEY, egress="allow-list-only", lease_seconds=1)
    async with serving(settings, KEY) as (_, api, producer):
        yield Executor(api, producer, prefix, kafka_bootstrap)


def fields(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


async def test_the_issue_form_is_accepted_versioned_and_a_stale_update_is_409(
        executor: Executor) -> None:
    order_id = await executor.order()
    base = f"/api/v1/orders/{order_id}/external-actions"
    created = await executor.api.post(base, json=FORM)
    assert created.status_code == 201, created.text
    action = created.json()
    assert action["version"] == 1 and action["id"]
    assert (await executor.api.get(f"{base}/{action['id']}")).json()["name"] == FORM["name"]

    changed = {**FORM, "groups": ["payments", "refunds"], "version": 1}
    updated = await executor.api.put(f"{base}/{action['id']}", json=changed)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = await executor.api.put(f"{base}/{action['id']}", json=changed)
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == 2
    assert stale.json()["current"]["groups"] == ["payments", "refunds"]

    definitions = [decode(ExternalActionDefinition, v) for v in
                   await executor.read(EXTERNAL_ACTION_DEFINITIONS, action["id"], 2)]
    assert [d.action_version for d in definitions] == [1, 2]

    assert (await executor.api.delete(f"{base}/{action['id']}")).status_code == 204
    assert (await executor.api.get(f"{base}/{action['id']}")).status_code == 404
    [*_, gone] = [decode(ExternalActionDefinition, v) for v in
                  await executor.read(EXTERNAL_ACTION_DEFINITIONS, action["id"], 3)]
    assert gone.deleted


async def test_list_is_paged_and_filtered_by_group(executor: Executor) -> None:
    order_id = await executor.order()
    base = f"/api/v1/orders/{order_id}/external-actions"
    for _ in range(3):
        assert (await executor.api.post(base, json=FORM)).status_code == 201
    assert (await executor.api.post(base, json=LINK)).status_code == 201
    first = (await executor.api.get(base, params={"limit": 2})).json()
    rest = (await executor.api.get(base, params={"limit": 2, "after": first["nextAfter"]})).json()
    ids = [a["id"] for a in first["actions"] + rest["actions"]]
    assert len(ids) == len(set(ids)) == 4
    shop = (await executor.api.get(base, params={"group": "shop"})).json()["actions"]
    assert [a["type"] for a in shop] == ["LINK"]


@pytest.mark.parametrize(("body", "field", "says"), [
    ({**FORM, "type": "POPUP"}, "type", "LINK"),
    ({**FORM, "name": {}}, "name", "at least 1"),
    ({**FORM, "name": {"english": "x"}}, "name.english.[key]", "pattern"),
    ({**FORM, "elements": [{"kind": "input", "id": "p", "inputType": "integer",
                            "label": {"en_US": "P"}, "min": 5, "max": 1}]}, "elements.0.min",
     "greater than max"),
    ({**FORM, "elements": [{"kind": "input", "id": "p"}]}, "elements.0", "inputType"),
    ({**FORM, "elements": []}, "elements", "a FORM needs elements"),
    ({**LINK, "url": "https://x.example/{shop.id}"}, "url", "unknown variable {shop.id}"),
])
async def test_a_bad_definition_is_a_422_naming_the_field(
        executor: Executor, body: dict[str, Any], field: str, says: str) -> None:
    order_id = await executor.order()
    answer = await executor.api.post(f"/api/v1/orders/{order_id}/external-actions", json=body)
    errors = fields(answer)
    assert any(k == field and says in v for k, v in errors.items()), errors


async def test_an_unknown_order_is_404(executor: Executor) -> None:
    answer = await executor.api.post("/api/v1/orders/never-seen/external-actions", json=FORM)
    assert answer.status_code == 404 and "never-seen" in answer.json()["detail"]


async def test_menu_in_a_locale_with_templates_and_no_comment(executor: Executor) -> None:
    big = await executor.order(total=800.0)
    small = await executor.order(total=20.0)
    template = await executor.api.post("/api/v1/external-action-templates", json={
        **FORM, "name": {"en_US": "Refund big order"}, "groups": ["refunds"],
        "conditions": [{"field": "order.totalCost", "op": "gt", "value": 500}]})
    assert template.status_code == 201, template.text
    bad = await executor.api.post("/api/v1/external-action-templates", json={
        **FORM, "conditions": [{"field": "order.totalCost", "op": "sounds_like", "value": 1}]})
    assert bad.status_code == 422
    for order_id in (big, small):
        base = f"/api/v1/orders/{order_id}/external-actions"
        for body in (FORM, LINK, {"type": "COMMENT", "name": {"en_US": "Payments log"}}):
            assert (await executor.api.post(base, json=body)).status_code == 201

    menu = (await executor.api.get(f"/api/v1/orders/{big}/external-actions/menu",
                                   params={"locale": "de_DE"})).json()["entries"]
    names = sorted(e["name"] for e in menu)
    # de_DE where the action has it, en_US otherwise; no COMMENT; the template applies.
    assert names == ["Open in shop", "Refund big order", "Zahlung kürzen"]
    [link] = [e for e in menu if e["type"] == "LINK"]
    assert link["url"] == f"https://shop.example/orders/{big}?total=800.0"
    [form] = [e for e in menu if e["name"] == "Zahlung kürzen"]
    assert form["form"]["confirmLabel"] == "Reduce"
    small_menu = (await executor.api.get(
        f"/api/v1/orders/{small}/external-actions/menu")).json()["entries"]
    assert "Refund big order" not in [e["name"] for e in small_menu]
    assert (await executor.api.get(f"/api/v1/orders/{big}/external-actions/menu",
                                   params={"locale": "german"})).status_code == 422


async def test_executing_a_form_checks_each_input_and_records_the_user(
        executor: Executor) -> None:
    order_id = await executor.order()
    base = f"/api/v1/orders/{order_id}/external-actions"
    action = (await executor.api.post(base, json=FORM)).json()
    run = f"{base}/{action['id']}/execute"

    assert fields(await executor.api.post(run, json={"user": USER, "inputs": {}})) == {
        "inputs.percent": "is mandatory"}
    assert fields(await executor.api.post(run, json={"user": USER, "inputs": {
        "percent": 80, "note": "x"}})) == {"inputs.percent": "must be at most 50",
                                           "inputs.note": "this FORM has no such input"}
    assert fields(await executor.api.post(run, json={"user": USER, "inputs": {
        "percent": 2.5}})) == {"inputs.percent": "must be a whole number"}
    assert "user" in fields(await executor.api.post(run, json={"inputs": {"percent": 10}}))
    assert "user.name" in fields(await executor.api.post(run, json={
        "user": {"id": "u-7"}, "inputs": {"percent": 10}}))

    key = {"Idempotency-Key": "click-1"}
    done = await executor.api.post(run, json={"user": USER, "inputs": {"percent": 10}},
                                   headers=key)
    assert done.status_code == 201, done.text
    again = await executor.api.post(run, json={"user": USER, "inputs": {"percent": 10}},
                                    headers=key)
    assert again.status_code == 200 and again.json()["id"] == done.json()["id"]
    [published] = [decode(ExternalActionExecution, v) for v in
                   await executor.read(EXTERNAL_ACTIONS, done.json()["id"])]
    assert (published.user.id, published.user.name) == ("u-7", "Shift Lead")  # type: ignore
    assert (published.inputs, published.action_type) == ({"percent": 10}, "FORM")
    assert published.action_name == "Reduce payment"


async def test_executing_a_link_answers_its_url_and_a_comment_is_not_executed(
        executor: Executor) -> None:
    order_id = await executor.order(total=12.5)
    base = f"/api/v1/orders/{order_id}/external-actions"
    link = (await executor.api.post(base, json=LINK)).json()
    done = await executor.api.post(f"{base}/{link['id']}/execute", json={"user": USER})
    assert done.status_code == 201
    assert done.json()["url"] == f"https://shop.example/orders/{order_id}?total=12.5"
    comment = (await executor.api.post(base, json={"type": "COMMENT",
                                                   "name": {"en_US": "Log"}})).json()
    refused = await executor.api.post(f"{base}/{comment['id']}/execute", json={"user": USER})
    assert refused.status_code == 409


async def test_trigger_effects_define_an_action_once_and_fire_one_once(
        executor: Executor) -> None:
    order_id = await executor.order()
    define = ActionRequest(
        external_order_id=order_id, trigger_id="t-xa", trigger_name="connector",
        firing_id="f-1", event_id=str(uuid.uuid4()),
        effect=ExternalActionEffect(define=FORM))  # type: ignore[arg-type]
    fire = ActionRequest(
        external_order_id=order_id, trigger_id="t-xa", trigger_name="connector",
        firing_id="f-1", event_id=str(uuid.uuid4()), effect_index=1,
        effect=ExternalActionEffect(action="reserve-stock", params={"sku": "A"}))
    for request in (define, fire, define, fire):  # each twice: performed once
        await executor.producer.send(ACTION_REQUESTS, order_id, request)
    [execution] = [decode(ExternalActionExecution, v) for v in
                   await executor.read(EXTERNAL_ACTIONS, fire.id)]
    assert (execution.action_id, execution.action_type) == ("reserve-stock", "EFFECT")
    [defined] = [decode(ExternalActionDefinition, v) for v in
                 await executor.read(EXTERNAL_ACTION_DEFINITIONS, order_id)]
    await asyncio.sleep(2)  # room for a wrong second one (the lease is 1 s)
    listed = (await executor.api.get(f"/api/v1/orders/{order_id}/external-actions")).json()
    assert [a["id"] for a in listed["actions"]] == [defined.action_id]
    assert len(await read_all(executor.bootstrap, EXTERNAL_ACTIONS, executor.prefix, None,
                              keep=lambda v: fire.id.encode() in v, timeout=2)) == 1


async def a_form_here_and_on_another_order(
        executor: Executor) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An order with a FORM, and a FORM of another order (which it may not relate to)."""
    order_id, other = await executor.order(), await executor.order()
    action = (await executor.api.post(f"/api/v1/orders/{order_id}/external-actions",
                                      json=FORM)).json()
    foreign = (await executor.api.post(f"/api/v1/orders/{other}/external-actions",
                                       json=FORM)).json()
    return order_id, action, foreign


async def test_comments_over_http_with_and_without_a_relation(executor: Executor) -> None:
    order_id, action, foreign = await a_form_here_and_on_another_order(executor)
    url = f"/api/v1/orders/{order_id}/comments"
    plain = await executor.api.post(url, json={"text": "order checked", "author": "payments"})
    related = await executor.api.post(url, json={"text": "payment reduced",
                                                 "relatedActionId": action["id"]})
    assert plain.status_code == related.status_code == 201
    assert "does not exist" not in related.text
    assert "another order" in fields(await executor.api.post(url, json={
        "text": "x", "relatedActionId": foreign["id"]}))["relatedActionId"]
    assert "no external action" in fields(await executor.api.post(url, json={
        "text": "x", "relatedActionId": "nope"}))["relatedActionId"]
    assert "text" in fields(await executor.api.post(url, json={"text": ""}))
    assert (await executor.api.post("/api/v1/orders/never-seen/comments",
                                    json={"text": "x"})).status_code == 404
    accepted = [decode(Comment, v) for v in await executor.read(COMMENTS_ACCEPTED, order_id, 2)]
    assert {(c.text, c.related_action_id) for c in accepted} == {
        ("order checked", None), ("payment reduced", action["id"])}


async def test_comments_on_the_topic_are_accepted_or_dead_lettered(executor: Executor) -> None:
    order_id, action, foreign = await a_form_here_and_on_another_order(executor)
    good = Comment(external_order_id=order_id, text="payment reduced by 10%",
                   related_action_id=action["id"])
    cross = Comment(external_order_id=order_id, text="x", related_action_id=foreign["id"])
    missing = Comment(external_order_id=order_id, text="x", related_action_id="nope")
    unknown = Comment(external_order_id="never-seen", text="x")
    for comment in (cross, missing, unknown, good, good):
        await executor.producer.send(COMMENTS, comment.external_order_id, comment)
    await executor.producer.send(COMMENTS, order_id, b"{not json")

    [accepted] = [decode(Comment, v) for v in await executor.read(COMMENTS_ACCEPTED, good.id)]
    assert accepted.related_action_id == action["id"]
    letters = {}
    for needle in (cross.id, missing.id, unknown.id, "{not json"):
        [raw] = await read_all(executor.bootstrap, DLQ, executor.prefix, lambda v: len(v) >= 1,
                               keep=lambda v, n=needle: n.encode() in decode(
                                   DeadLetter, v).original_value)
        letters[needle] = decode(DeadLetter, raw)
    assert "belongs to another order" in letters[cross.id].reason
    assert "no external action" in letters[missing.id].reason
    assert "no order" in letters[unknown.id].reason
    assert letters["{not json"].original_value == b"{not json"
    await asyncio.sleep(1)
    assert len(await read_all(executor.bootstrap, COMMENTS_ACCEPTED, executor.prefix, None,
                              keep=lambda v: good.id.encode() in v, timeout=2)) == 1
