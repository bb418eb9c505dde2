"""The HTTP side every service shares: the app factory with ``/healthz`` and ``/metrics``,
API-key auth with scopes, and 4xx answers that name the fields at fault."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import make_asgi_app

ALL_SCOPES = "*"


def parse_api_keys(raw: str) -> dict[str, frozenset[str]]:
    """``"k1,k2:orders.read+orders.write"`` → {k1: {*}, k2: {orders.read, orders.write}}."""
    keys: dict[str, frozenset[str]] = {}
    for entry in filter(None, (e.strip() for e in raw.split(","))):
        key, _, scopes = entry.partition(":")
        keys[key] = frozenset(scopes.split("+")) if scopes else frozenset({ALL_SCOPES})
    return keys


_bearer = HTTPBearer(auto_error=False)


def require_scope(scope: str) -> Callable[..., Any]:
    """A dependency: 401 without a known key, 403 when the key lacks ``scope``."""

    async def check(
        request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> str:
        keys: dict[str, frozenset[str]] = request.app.state.api_keys
        if creds is None:
            raise HTTPException(401, "missing API key: send Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})
        match = next((k for k in keys if secrets.compare_digest(k, creds.credentials)), None)
        if match is None:
            raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
        granted = keys[match]
        if ALL_SCOPES not in granted and scope not in granted:
            raise HTTPException(403, f"this API key lacks the scope {scope!r}")
        return match

    return check


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body",)]
        out.append({"field": ".".join(loc) or "(body)", "message": e.get("msg", ""),
                    "type": e.get("type", "")})
    return out


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=request.app.state.validation_status,
        content={"detail": "request is not valid", "errors": field_errors(exc.errors())},
    )


def create_app(*, title: str, api_keys: str, lifespan: Any = None,
               version: str = "0.1.0", validation_status: int = 400) -> FastAPI:
    """A service's app. Its lifespan sets ``app.state.resources`` (``Resources``), whose
    problems make ``/healthz`` answer 503. A request that fails validation is answered with
    ``validation_status`` and the fields at fault: 400 where a seed prescribes it (orders,
    seed 002), 422 for the configuration APIs (triggers, endpoints, external actions)."""
    app = FastAPI(title=title, version=version, lifespan=lifespan)
    app.state.api_keys = parse_api_keys(api_keys)
    app.state.validation_status = validation_status
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.mount("/metrics", make_asgi_app())

    @app.get("/healthz", tags=["ops"], summary="Liveness and readiness")
    async def healthz() -> JSONResponse:
        resources = getattr(app.state, "resources", None)
        if resources is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        problems = resources.problems()
        return JSONResponse({"status": "failing" if problems else "ok", "problems": problems},
                            status_code=503 if problems else 200)

    return app
