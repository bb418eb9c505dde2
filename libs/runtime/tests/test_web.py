"""What every service's app refuses at the edge (4xx, never 5xx), and the statuses its OpenAPI
document lists. A real app over ASGI; no service behind it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from orderflow_runtime.guards import RAW_BODY
from orderflow_runtime.ratelimit import limited_scope
from orderflow_runtime.settings import HttpLimits
from orderflow_runtime.web import create_app, require_scope, serve_directly
from pydantic import BaseModel

JSON = {"content-type": "application/json"}


class Thing(BaseModel):
    name: str
    data: dict[str, Any] = {}


@pytest.fixture(params=[400, 422])
def client(request: pytest.FixtureRequest) -> TestClient:
    app = create_app(title="t", api_keys="k,r:read", validation_status=request.param,
                     limits=HttpLimits(max_body_bytes=100_000, max_json_depth=8))

    @app.post("/things", dependencies=[Depends(require_scope("write"))])
    async def post_thing(thing: Thing) -> dict[str, str]:
        return {"name": thing.name}

    @app.get("/things/{name}", dependencies=[Depends(limited_scope("read"))])
    async def get_thing(name: str) -> dict[str, str]:
        return {"name": name}

    @app.post("/raw", openapi_extra={"requestBody": {"content": {"application/json": {}}},
                                     **RAW_BODY})
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return TestClient(app, headers={"Authorization": "Bearer k"})


def refused(client: TestClient, body: bytes) -> dict[str, Any]:
    answer = client.post("/things", content=body, headers=JSON)
    assert answer.status_code == client.app.state.validation_status  # type: ignore[attr-defined]
    return answer.json()["errors"][0]  # type: ignore[no-any-return]


def test_lone_surrogates_and_nul_are_refused_naming_the_field(client: TestClient) -> None:
    assert refused(client, b'{"name": "a\\ud800"}')["field"] == "name"
    assert refused(client, b'{"name": "x", "data": {"k": ["\\udc00"]}}')["field"] == "data.k.0"
    assert refused(client, b'{"name": "x", "data": {"\\ud83d": 1}}')["field"] == "data.\\ud83d"
    assert refused(client, b'{"name": "x\\u0000"}')["type"] == "text_invalid"
    assert refused(client, b'{"name": "\xed\xa0\x80"}')["message"] == "the body is not UTF-8"
    # A surrogate pair is a character like any other.
    assert client.post("/things", json={"name": "\U0001f600"}).json() == {"name": "\U0001f600"}


def test_integers_beyond_64_bits_are_refused_naming_the_field(client: TestClient) -> None:
    too_big = b'{"name": "x", "data": {"n": [1, 18446744073709551616]}}'
    assert refused(client, too_big) == {"field": "data.n.1", "type": "int_too_large",
                                        "message": "integer beyond 64 bits"}
    ok = b'{"name": "x", "data": {"n": [-9223372036854775808, 18446744073709551615]}}'
    assert client.post("/things", content=ok, headers=JSON).status_code == 200


def test_deep_json_is_refused_at_any_depth(client: TestClient) -> None:
    for depth in (9, 900, 5000):
        body = b'{"name": "x", "data": {"d": ' + b"[" * depth + b"]" * depth + b"}}"
        assert refused(client, body)["type"] == "json_too_deep"
    ok = b'{"name": "x", "data": {"d": [[1]]}}'
    assert client.post("/things", content=ok, headers=JSON).status_code == 200


def test_bodies_over_the_limit_are_413(client: TestClient) -> None:
    body = b'{"name": "' + b"x" * 200_000 + b'"}'
    assert client.post("/things", content=body, headers=JSON).status_code == 413


def test_odd_keys_and_urls_are_4xx(client: TestClient) -> None:
    assert client.get("/things/a", headers={"Authorization": b"Bearer \xff"}).status_code == 401
    assert client.get("/things/a%00b").status_code == client.app.state.validation_status  # type: ignore[attr-defined]
    assert client.get("/things/a?x=%00").status_code == client.app.state.validation_status  # type: ignore[attr-defined]
    assert client.post("/things", content=b'{"name": ', headers=JSON).status_code == (
        client.app.state.validation_status)  # type: ignore[attr-defined]


def test_openapi_lists_every_status(client: TestClient) -> None:
    status = str(client.app.state.validation_status)  # type: ignore[attr-defined]
    paths = client.get("/openapi.json").json()["paths"]
    post = paths["/things"]["post"]["responses"]
    get = paths["/things/{name}"]["get"]["responses"]
    assert {"200", status, "401", "403", "413"} <= set(post)
    assert {"200", status, "401", "403"} <= set(get) and "413" not in get
    assert "503" in paths["/healthz"]["get"]["responses"]
    if status == "400":
        assert "422" not in post  # FastAPI's default, never answered here
    assert post[status]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"}


def test_a_route_that_checks_its_own_raw_body_is_left_alone(client: TestClient) -> None:
    body = b'{"a": "\\ud800"}'
    assert client.post("/raw", content=body, headers=JSON).json() == {"bytes": len(body)}


def test_a_route_served_directly_answers_as_the_app_would_around_it() -> None:
    app = create_app(title="t", api_keys="k", limits=HttpLimits(max_body_bytes=1000))

    @app.post("/direct", openapi_extra=RAW_BODY)
    async def routed() -> dict[str, str]:
        return {"via": "FastAPI"}

    async def direct(request: Request) -> Response:
        body = await request.body()
        if body == b"slow down":
            raise HTTPException(429, "rate limit exceeded", headers={"Retry-After": "3"})
        return JSONResponse({"via": "direct", "bytes": len(body)})

    serve_directly(app, "POST", "/direct", direct)
    client = TestClient(app)
    assert client.post("/direct", content=b"abc").json() == {"via": "direct", "bytes": 3}
    refused = client.post("/direct", content=b"slow down")
    assert (refused.status_code, refused.json()) == (429, {"detail": "rate limit exceeded"})
    assert refused.headers["Retry-After"] == "3"
    assert client.post("/direct", content=b"x" * 2000).status_code == 413
    assert client.post("/direct?x=%00").status_code == 400  # the guards still apply
    wrong_method = client.get("/direct")
    assert (wrong_method.status_code, wrong_method.headers["Allow"]) == (405, "POST")
    assert "post" in client.get("/openapi.json").json()["paths"]["/direct"]
