"""The HTTP side every service shares: the app factory with ``/healthz`` and ``/metrics``,
API-key auth with scopes, 4xx answers that name the fields at fault, a body size limit (413),
the input guards of ``guards.py``, and an OpenAPI document that lists every status a route can
answer (``document_statuses``)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import make_asgi_app
from pydantic import BeforeValidator
from starlette.types import ASGIApp, Receive, Scope, Send

from .guards import BodyGuard, url_problem
from .settings import HttpLimits

ALL_SCOPES = "*"


def parse_api_keys(raw: str) -> dict[str, frozenset[str]]:
    """``"k1,k2:orders.read+orders.write"`` → {k1: {*}, k2: {orders.read, orders.write}}."""
    keys: dict[str, frozenset[str]] = {}
    for entry in filter(None, (e.strip() for e in raw.split(","))):
        key, _, scopes = entry.partition(":")
        keys[key] = frozenset(scopes.split("+")) if scopes else frozenset({ALL_SCOPES})
    return keys


bearer = HTTPBearer(auto_error=False)


def authorize(request: Request, creds: HTTPAuthorizationCredentials | None, scope: str) -> str:
    """The key of a request (401 without a known one), if it has ``scope`` (else 403)."""
    keys: dict[str, frozenset[str]] = request.app.state.api_keys
    if creds is None:
        raise HTTPException(401, "missing API key: send Authorization: Bearer <key>",
                            headers={"WWW-Authenticate": "Bearer"})
    # Bytes: compare_digest refuses str with non-ASCII characters (a header may have any).
    given = creds.credentials.encode("utf-8", "surrogateescape")
    match = next((k for k in keys if secrets.compare_digest(k.encode(), given)), None)
    if match is None:
        raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
    granted = keys[match]
    if ALL_SCOPES not in granted and scope not in granted:
        raise HTTPException(403, f"this API key lacks the scope {scope!r}")
    return match


def require_scope(scope: str) -> Callable[..., Any]:
    """A dependency: 401 without a known key, 403 when the key lacks ``scope``."""

    async def check(
        request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> str:
        return authorize(request, creds, scope)

    return check


# A rule over several fields (a model validator) says which one is at fault by starting its
# message with it: "url: a LINK needs a url". Pydantic places such errors on the model itself.
_NAMED = re.compile(r"^(?:Value error, )?([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*): (.+)$", re.S)


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body",)]
        field, message = ".".join(loc), e.get("msg", "")
        named = _NAMED.match(message)
        if named:
            inner, message = named.groups()
            field = f"{field}.{inner}" if field else inner
        out.append({"field": field or "(body)", "message": message, "type": e.get("type", "")})
    return out


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=request.app.state.validation_status,
        content={"detail": "request is not valid", "errors": field_errors(exc.errors())},
    )


def create_app(*, title: str, api_keys: str, lifespan: Any = None,
               version: str = "0.1.0", validation_status: int = 400,
               limits: HttpLimits | None = None) -> FastAPI:
    """A service's app. Its lifespan sets ``app.state.resources`` (``Resources``), whose
    problems make ``/healthz`` answer 503. A request that fails validation is answered with
    ``validation_status`` and the fields at fault: 400 where a seed prescribes it (orders,
    seed 002), 422 for the configuration APIs (triggers, endpoints, external actions).
    ``limits`` (default: from ``ORDERFLOW_MAX_BODY_BYTES`` / ``ORDERFLOW_MAX_JSON_DEPTH``):
    a larger body is answered 413, a deeper JSON body ``validation_status``."""
    limits = limits or HttpLimits()
    # Telemetry off: the services export Prometheus metrics, and FastAPI's OpenTelemetry hook
    # otherwise asks three global providers whether they are set on every request (3 µs).
    app = FastAPI(title=title, version=version, lifespan=lifespan,
                  max_body_size=limits.max_body_bytes,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.api_keys = parse_api_keys(api_keys)
    app.state.validation_status = validation_status
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(BodyGuard, max_depth=limits.max_json_depth)
    app.state.direct_routes = {}
    app.add_middleware(DirectRoutes, routes=app.state.direct_routes)  # outside BodyGuard
    app.mount("/metrics", make_asgi_app())
    _document_statuses_of(app)

    @app.get("/healthz", tags=["ops"], summary="Liveness and readiness",
             responses={503: {"description": "starting, or a dependency is failing"}})
    async def healthz() -> JSONResponse:
        resources = getattr(app.state, "resources", None)
        if resources is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        problems = resources.problems()
        return JSONResponse({"status": "failing" if problems else "ok", "problems": problems},
                            status_code=503 if problems else 200)

    return app


Endpoint = Callable[[Request], Awaitable[Response]]


def serve_directly(app: FastAPI, method: str, path: str, endpoint: Endpoint) -> None:
    """Answer ``method path`` (exactly that path) with ``endpoint`` before FastAPI routes it.

    For a route that a client calls once per order: FastAPI's routing, dependency solving and
    inner middlewares cost twice what the route itself does. The route stays registered with
    FastAPI as well, for its OpenAPI document; ``endpoint`` must do what its dependencies do
    (``authorize``, ``limited_scope``). The body size limit (413) and the 500 answer are outside
    and apply as before; an ``HTTPException`` is answered as FastAPI answers it."""
    app.state.direct_routes[(method, path)] = endpoint


class DirectRoutes:
    """ASGI middleware of ``serve_directly``: the routes it was given, else the app."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], Endpoint]) -> None:
        self.app = app
        self.routes = routes  # filled after the app is made, before it serves

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = (self.routes.get((scope["method"], scope["path"]))
                    if scope["type"] == "http" else None)
        if endpoint is None or url_problem(scope) is not None:  # BodyGuard answers that
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except HTTPException as exc:
            response = await http_exception_handler(request, exc)
        await response(scope, receive, send)


# What every answer of ours looks like: HTTPException's {"detail"} and, for validation
# errors, the fields at fault (``field_errors``).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object", "required": ["detail"],
    "properties": {
        "detail": {"description": "what went wrong"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message", "type"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"},
                           "type": {"type": "string"}}}},
    },
}


def document_statuses(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Add to each operation of ``schema`` the statuses it can answer without saying so itself:
    the validation status (every route: parameters, or the guards on the URL), 413 where there
    is a request body, 401 and 403 where an API key is required (``require_scope``). Error
    answers are documented with ``PROBLEM_SCHEMA``, replacing FastAPI's default 422 schema,
    which is not what ``_validation_error`` answers."""
    status = str(app.state.validation_status)
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            extra = {status: "the request is not valid: the fields at fault in errors"}
            if "requestBody" in operation:
                extra["413"] = "the body is larger than ORDERFLOW_MAX_BODY_BYTES"
            if operation.get("security"):
                extra["401"] = "no API key, or an unknown one"
                extra["403"] = "the API key lacks the scope of this route"
            responses = operation.setdefault("responses", {})
            if status != "422" and "422" in responses and _is_default_422(responses["422"]):
                del responses["422"]  # FastAPI's own; this service answers ``status`` instead
            for code, description in extra.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = problem
    return schema


def _is_default_422(response: dict[str, Any]) -> bool:
    return "HTTPValidationError" in str(response.get("content", ""))


def _document_statuses_of(app: FastAPI) -> None:
    """Make ``app.openapi()`` post-process FastAPI's document with ``document_statuses``."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_statuses(app, generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _iso_only(value: Any) -> Any:
    """OpenAPI says date-time: a bare number (pydantic's Unix time) is refused, not guessed."""
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-01-01T00:00:00Z")
    return value


# A query date-time in ISO 8601 only.
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
