"""The orders API over HTTP against a real broker and database: every status code of every
route, and what comes out on the topics."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from orderflow_ingest.intake import NO_CONTACT_WARNING
from orderflow_runtime.ratelimit import RateLimiter
from orderflow_schemas.topics import ORDER_ACTIONS, ORDER_EVENTS


def test_valid_and_invalid_orders_are_answered_one_by_one(ingest: Any) -> None:
    good, no_contact = ingest.order(), ingest.order(email=None, extra={"kept": True})
    bad = ingest.order(currency="XYZ", status="SHIPPED", date="not a date",
                       items=[{"externalItemId": "i1", "quantity": 1, "cost": 1}])
    answer = ingest.post(good, bad, no_contact)
    assert answer.status_code == 200
    body = answer.json()
    assert [a["index"] for a in body["accepted"]] == [0, 2]
    assert all(a["eventId"] and a["versionTag"] for a in body["accepted"])
    assert body["accepted"][1]["warnings"] == [NO_CONTACT_WARNING]
    [rejected] = body["rejected"]
    assert rejected["index"] == 1 and rejected["externalOrderId"] == bad["externalOrderId"]
    fields = {e["field"] for e in rejected["errors"]}
    assert {"currency", "status", "date", "items.0.name", "items.0.url"} <= fields
    processed = ingest.processed(no_contact["externalOrderId"])
    assert processed["order"]["extra"] == {"kept": True}  # unknown fields are kept


def test_items_must_add_up_to_the_total(ingest: Any) -> None:
    answer = ingest.post(ingest.order(totalCost=99))
    assert answer.status_code == 200
    [rejected] = answer.json()["rejected"]
    assert "totalCost 99.0 does not equal" in rejected["errors"][0]["message"]


def test_malformed_requests_are_refused_as_a_whole(ingest: Any) -> None:
    headers = {"Authorization": "Bearer k-all", "Content-Type": "application/json"}
    cases = {b"{nope": "body is not JSON", b'{"orders": []}': "send 1 to 1000 orders, got 0",
             b'[{"a": 1}]': 'body must be an object {"orders": [...]}'}
    for content, message in cases.items():
        answer = ingest.client.post("/api/v1/orders", content=content, headers=headers)
        assert answer.status_code == 400 and answer.json()["detail"].startswith(message)
    too_many = ingest.post(*[ingest.order() for _ in range(1001)])
    assert too_many.status_code == 400
    assert too_many.json()["detail"] == "send 1 to 1000 orders, got 1001"


def test_every_route_needs_a_key_with_its_scope(ingest: Any) -> None:
    missing = ingest.client.post("/api/v1/orders", json={"orders": []})
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert ingest.client.get("/api/v1/orders/x",
                             headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert ingest.post(ingest.order(), key="k-reader").status_code == 403
    assert ingest.client.get("/api/v1/orders/x", headers={
        "Authorization": "Bearer k-writer"}).status_code == 403
    assert ingest.client.post("/api/v1/orders/x/action", json={},
                              headers={"Authorization": "Bearer k-reader"}).status_code == 403


def test_a_key_over_its_rate_limit_is_answered_429_with_retry_after(ingest: Any) -> None:
    app = ingest.client.app
    saved, app.state.rate_limiter = app.state.rate_limiter, RateLimiter(per_minute=2, burst=2)
    try:
        codes = [ingest.client.get("/api/v1/orders/x", headers={
            "Authorization": "Bearer k-reader"}) for _ in range(3)]
        assert [c.status_code for c in codes] == [404, 404, 429]
        assert codes[2].headers["Retry-After"] == "30"
        other = ingest.client.get("/api/v1/orders/x", headers={"Authorization": "Bearer k-all"})
        assert other.status_code == 404  # limits are per key
        posted = [ingest.post(ingest.order(), key="k-writer") for _ in range(3)]
        assert [p.status_code for p in posted] == [200, 200, 429]
        assert posted[2].json()["detail"].startswith("rate limit exceeded")
    finally:
        app.state.rate_limiter = saved


def test_get_order_is_404_until_processed_then_has_its_version_tag(ingest: Any) -> None:
    unknown = ingest.client.get("/api/v1/orders/never-sent", headers={
        "Authorization": "Bearer k-all"})
    assert unknown.status_code == 404 and unknown.json()["detail"] == "order not found"
    order = ingest.order()
    tag = ingest.post(order).json()["accepted"][0]["versionTag"]
    processed = ingest.processed(order["externalOrderId"], tag)
    assert processed["pending"] is False and processed["order"]["email"] == order["email"]
    update = ingest.post({**order, "deliveryMethod": "courier"}).json()["accepted"][0]
    assert update["versionTag"] != tag
    assert ingest.processed(order["externalOrderId"], update["versionTag"])["pending"] is False


def test_order_actions(ingest: Any) -> None:
    order, lonely = ingest.order(), ingest.order(email=None)
    tags = [a["versionTag"] for a in ingest.post(order, lonely).json()["accepted"]]
    ingest.processed(order["externalOrderId"], tags[0])
    ingest.processed(lonely["externalOrderId"], tags[1])

    def act(order_id: str, body: Any) -> Any:
        return ingest.client.post(f"/api/v1/orders/{order_id}/action", json=body,
                                  headers={"Authorization": "Bearer k-writer"})

    body = {"action": "ShipOrder", "versionTag": tags[0], "language": "de_DE",
            "data": {"carrier": "DHL"}}
    accepted = act(order["externalOrderId"], body)
    assert accepted.status_code == 202
    action_id = accepted.json()["actionId"]
    assert act(order["externalOrderId"], {"versionTag": tags[0]}).status_code == 400
    assert act(order["externalOrderId"], {"action": "ShipOrder"}).status_code == 400
    assert act(order["externalOrderId"], {"action": 5, "versionTag": []}).status_code == 400
    assert act("never-sent", body).status_code == 404
    stale = act(order["externalOrderId"], {**body, "versionTag": "stale"})
    assert stale.status_code == 404 and "versionTag" in stale.json()["detail"]
    assert act(lonely["externalOrderId"], {**body, "versionTag": tags[1]}).status_code == 422
    [message] = ingest.read(ORDER_ACTIONS, until=lambda found: len(found) == 1,
                            keep=lambda m: m["id"] == action_id)
    assert message["action"] == "ShipOrder" and message["data"] == {"carrier": "DHL"}
    assert message["externalOrderId"] == order["externalOrderId"]
    assert message["versionTag"] == tags[0] and message["language"] == "de_DE"


def test_an_accepted_order_becomes_an_event_with_its_customer(ingest: Any) -> None:
    order = ingest.order(externalCustomerId="c-http-1")
    event_id = ingest.post(order).json()["accepted"][0]["eventId"]
    [event] = ingest.read(ORDER_EVENTS, until=lambda found: len(found) == 1,
                          keep=lambda m: m["id"] == event_id)
    assert event["name"] == "orderINITIALIZED" and event["customerId"]


def test_the_openapi_document_describes_every_route(ingest: Any) -> None:
    paths = ingest.client.get("/openapi.json").json()["paths"]
    post = paths["/api/v1/orders/{external_order_id}/action"]["post"]
    assert {"202", "400", "401", "403", "404", "422", "429"} <= set(post["responses"])
    assert {"200", "400", "401", "403", "429"} <= set(paths["/api/v1/orders"]["post"]["responses"])


def test_an_order_with_text_postgresql_cannot_store_is_rejected_alone(ingest: Any) -> None:
    answer = ingest.client.post("/api/v1/orders", content=b'{"orders": [{"externalOrderId": '
                                b'"x\\udc00"}]}', headers={
        "Authorization": "Bearer k-all", "content-type": "application/json"})
    assert answer.json()["rejected"][0]["externalOrderId"] == "x\\udc00"
    for raw in (b'"a\\u0000b"', b'"\\ud800"'):
        body = (b'{"orders": [{"externalOrderId": "nul-1", "totalCost": 1, "status": '
                b'"INITIALIZED", "date": "2024-05-01T10:00:00+00:00", "email": "a@b.co", '
                b'"note": ' + raw + b'}]}')
        answer = ingest.client.post("/api/v1/orders", content=body, headers={
            "Authorization": "Bearer k-all", "content-type": "application/json"})
        assert answer.status_code == 200, answer.text
        (rejected,) = answer.json()["rejected"]
        assert rejected["externalOrderId"] == "nul-1" and answer.json()["accepted"] == []
        assert rejected["errors"][0]["field"] == "note"
        assert rejected["errors"][0]["message"].startswith("text contains")


def test_concurrent_requests_for_the_same_and_other_orders_are_all_accepted(ingest: Any) -> None:
    # Submissions of requests arriving together are written by one statement: two versions of
    # one order in it must not fail the others (or themselves).
    shared = ingest.order()
    others = [ingest.order() for _ in range(16)]
    bodies = [{**shared, "totalCost": 25.0, "shipping": 5 + n, "discount": n} for n in range(16)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda o: ingest.post(o), bodies + others))
    assert [a.status_code for a in answers] == [200] * 32
    assert all(len(a.json()["accepted"]) == 1 for a in answers)
    tags = {a.json()["accepted"][0]["versionTag"] for a in answers[:16]}
    for order in others:
        assert ingest.processed(order["externalOrderId"])["pending"] is False
    assert ingest.processed(shared["externalOrderId"])["versionTag"] in tags
