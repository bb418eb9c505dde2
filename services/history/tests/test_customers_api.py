"""Contact preview, RFM from DELIVERED orders only, and segments (seed 004)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from orderflow_schemas.topics import ORDER_EVENTS

from .conftest import Produce, eventually
from .factories import order_event

NOW = datetime.now(UTC)


def days_ago(n: int) -> datetime:
    return NOW - timedelta(days=n, hours=1)


def produce_customers(produce: Produce) -> None:
    """Five customers with delivered orders (c1 best ... c5 worst), one without any."""
    events = []
    for i in range(1, 6):
        for j in range(6 - i):  # c1: 5 delivered orders, c5: 1
            events.append(order_event(f"c{i}-o{j}", "DELIVERED", customer=f"c{i}",
                                      total=100.0 * (6 - i), date=days_ago(10 * i + j)))
    # Not counted: an order still in progress, and one delivered and then cancelled.
    events.append(order_event("c1-open", "IN_PROGRESS", customer="c1", total=9999,
                              date=days_ago(1)))
    events.append(order_event("c1-back", "DELIVERED", customer="c1", total=5000,
                              date=days_ago(2)))
    events.append(order_event("c1-back", "CANCELLED", customer="c1", total=5000,
                              date=days_ago(2), version=2))
    events.append(order_event("c6-cart", "ABANDONED_SHOPPING_CART", customer="c6", total=10,
                              date=days_ago(3)))
    produce(ORDER_EVENTS, *events)


def test_customer_preview_with_rfm_from_delivered_orders_only(
        client: TestClient, produce: Produce) -> None:
    produce_customers(produce)
    c1 = eventually(lambda: (r := client.get("/api/v1/customers/c1")).status_code == 200
                    and r.json()["orderCount"] == 7 and r.json())
    assert c1["externalCustomerId"] == "c1" and c1["email"] == "c1@example.com"
    assert c1["phone"] == "380942583691"
    assert (c1["firstName"], c1["lastName"]) == ("John", "Smith-c1")  # latest order's name
    rfm = c1["rfm"]
    assert rfm["frequency"] == 5  # neither the open nor the cancelled order counts
    assert rfm["monetary"] == {"sum": 2500.0, "averageCheck": 500.0}
    assert rfm["recencyDays"] == 10
    assert rfm["scores"] == {"r": 5, "f": 5, "m": 5, "rfm": "555"}

    c5 = client.get("/api/v1/customers/c5").json()["rfm"]
    assert (c5["frequency"], c5["recencyDays"], c5["monetary"]["sum"]) == (1, 50, 100.0)
    assert c5["scores"] == {"r": 1, "f": 1, "m": 1, "rfm": "111"}
    c3 = client.get("/api/v1/customers/c3").json()["rfm"]
    assert c3["scores"]["rfm"] == "333"

    c6 = client.get("/api/v1/customers/c6").json()
    assert c6["orderCount"] == 1 and c6["rfm"]["frequency"] == 0
    assert c6["rfm"]["scores"] is None and c6["rfm"]["recencyDays"] is None
    assert client.get("/api/v1/customers/nobody").status_code == 404


def test_segments_by_average_check_order_count_and_last_order_date(
        client: TestClient, produce: Produce) -> None:
    produce_customers(produce)
    eventually(lambda: client.get("/api/v1/customers/c1").json().get("orderCount") == 7)

    def ids(**params: Any) -> list[str]:
        r = client.get("/api/v1/segments", params=params)
        assert r.status_code == 200, r.text
        return [c["customerId"] for c in r.json()["customers"]]

    assert ids() == ["c1", "c2", "c3", "c4", "c5"]  # c6 has no delivered order
    assert ids(averageCheckMin=300) == ["c1", "c2", "c3"]
    assert ids(averageCheckMin=200, averageCheckMax=400) == ["c2", "c3", "c4"]
    assert ids(orderCountMin=2, orderCountMax=3) == ["c3", "c4"]
    assert ids(lastOrderFrom=days_ago(31).isoformat()) == ["c1", "c2", "c3"]
    assert ids(lastOrderFrom=days_ago(41).isoformat(),
               lastOrderTo=days_ago(20).isoformat()) == ["c3", "c4"]
    assert ids(averageCheckMin=300, orderCountMax=3) == ["c3"]

    first = client.get("/api/v1/segments", params={"limit": 2}).json()
    second = client.get("/api/v1/segments",
                        params={"limit": 2, "cursor": first["nextCursor"]}).json()
    third = client.get("/api/v1/segments",
                       params={"limit": 2, "cursor": second["nextCursor"]}).json()
    assert [c["customerId"] for p in (first, second, third) for c in p["customers"]] == [
        "c1", "c2", "c3", "c4", "c5"]
    assert third["nextCursor"] is None
    assert first["customers"][0]["rfm"]["scores"]["rfm"] == "555"
    bad = client.get("/api/v1/segments", params={"orderCountMin": -1})
    assert bad.status_code == 400
    assert client.get("/api/v1/segments", params={"cursor": "@@@"}).status_code == 400


def test_the_preview_is_found_by_any_id_the_shop_knows_the_customer_by(
        client: TestClient, produce: Produce) -> None:
    # orderflow matched the order to its customer "of-1"; the shop knows her as "shop-cust-77".
    event = order_event("lookup-1", "DELIVERED", customer="of-1", total=250)
    event.order.update(externalCustomerId="shop-cust-77", email="Ann.Lee@Example.com",
                       phone="+49 170 1234567")
    other = order_event("lookup-2", "DELIVERED", customer="of-2", total=10)
    other.order.update(externalCustomerId="shop-cust-78", email="bob@example.com",
                       phone="+49 170 7654321")
    produce(ORDER_EVENTS, event, other)
    eventually(lambda: client.get("/api/v1/customers/of-1").status_code == 200)

    def found(customer: str, **params: str) -> str | None:
        answer = client.get(f"/api/v1/customers/{customer}", params=params)
        assert answer.status_code in (200, 404), answer.text
        return answer.json()["customerId"] if answer.status_code == 200 else None

    assert found("shop-cust-77") == "of-1"
    assert found("ann.lee@example.com") == "of-1"  # e-mail in any case
    assert found("+491701234567") == "of-1"  # phone by its digits
    assert found("+49 170 123456") is None  # a prefix of her number is not her number
    assert found("+49 170 7654321") == "of-2"
    assert found("shop-cust-77", by="email") is None  # narrowed to one kind of id
    assert found("shop-cust-77", by="externalCustomerId") == "of-1"
    assert client.get("/api/v1/customers/of-1", params={"by": "nope"}).status_code == 400


def test_orders_are_searched_by_id_prefix_any_customer_id_and_status(
        client: TestClient, produce: Produce) -> None:
    mine = [order_event(f"search-{n}", "DELIVERED" if n % 2 else "IN_PROGRESS",
                        customer="of-9", version=n + 1) for n in range(5)]
    for event in mine:
        event.order.update(externalCustomerId="shop-cust-99", email="Eve@Example.com",
                           phone="+49 170 9999999")
    produce(ORDER_EVENTS, *mine, order_event("search_x", "DELIVERED", customer="of-10"))
    eventually(lambda: len(client.get("/api/v1/orders", params={"order": "search"})
                           .json()["orders"]) == 6)

    def ids(**params: str) -> list[str]:
        answer = client.get("/api/v1/orders", params=params)
        assert answer.status_code == 200, answer.text
        return [o["externalOrderId"] for o in answer.json()["orders"]]

    assert ids(order="search-") == [f"search-{n}" for n in (4, 3, 2, 1, 0)]  # newest first
    assert ids(order="search_") == ["search_x"]  # _ is a character, not a wildcard
    for who in ("of-9", "shop-cust-99", "eve@example.com", "+491709999999"):
        assert sorted(ids(customer=who)) == [f"search-{n}" for n in range(5)], who
    assert ids(customer="shop-cust-99", status="DELIVERED") == ["search-3", "search-1"]
    first = client.get("/api/v1/orders", params={"order": "search-", "limit": 3}).json()
    rest = client.get("/api/v1/orders", params={"order": "search-", "limit": 3,
                                                "cursor": first["nextCursor"]}).json()
    assert [o["externalOrderId"] for o in first["orders"] + rest["orders"]] == \
        [f"search-{n}" for n in (4, 3, 2, 1, 0)]
    assert rest["nextCursor"] is None
    assert client.get("/api/v1/orders", params={"status": "LOST"}).status_code == 400
    assert client.get("/api/v1/orders", params={"cursor": "@@"}).status_code == 400
