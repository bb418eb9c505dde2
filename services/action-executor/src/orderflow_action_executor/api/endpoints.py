"""``/api/v1/endpoints``: where webhooks go, the secrets they are signed with, rotation, and
enabling an endpoint that a 410 Gone disabled."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from orderflow_runtime.web import require_scope
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..endpoints.signing import BadSecret, secret_bytes
from ..endpoints.store import Endpoint, EndpointStore

router = APIRouter(prefix="/api/v1/endpoints", tags=["endpoints"])
CanRead = Depends(require_scope("endpoints.read"))
CanWrite = Depends(require_scope("endpoints.write"))
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "endpoint not found"}}
TAKEN: dict[int | str, dict[str, Any]] = {409: {"description": "an endpoint has that URL"}}


async def _store(request: Request) -> EndpointStore:
    return request.app.state.endpoints  # type: ignore[no-any-return]


Store = Annotated[EndpointStore, Depends(_store)]


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an endpoint URL is an absolute http(s) URL")
    return value


def _secret(value: str | None) -> str | None:
    if value is not None:
        try:
            secret_bytes(value)
        except BadSecret as exc:
            raise ValueError(str(exc)) from exc
    return value


# The shapes the validators below accept, in the OpenAPI document too, so that a client (or a
# fuzzer) can tell a valid value from the schema alone.
URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#]\S*)?$"
SECRET_PATTERN = (r"^whsec_(?:[A-Za-z0-9+/]{4}){8,21}"
                  r"(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


RATE = Field(None, gt=0, le=100_000, strict=True,
             description="Most requests per second to this endpoint from each executor process "
                         "(none: no limit); over it, requests wait their turn")


class EndpointIn(BaseModel):
    """An endpoint: effects whose URL starts with ``url`` are signed with its secret."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000, pattern=URL_PATTERN,
                     examples=["https://crm.example"])
    secret: str | None = Field(None, pattern=SECRET_PATTERN,
                               description="whsec_ + base64 of 24 to 65 bytes; generated when "
                                           "absent")
    ratePerSecond: float | None = RATE

    _check_url = field_validator("url")(_url)
    _check_secret = field_validator("secret")(_secret)


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000, pattern=URL_PATTERN)
    ratePerSecond: float | None = RATE

    _check_url = field_validator("url")(_url)


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: str | None = Field(None, pattern=SECRET_PATTERN,
                               description="The new secret; generated when absent")

    _check_secret = field_validator("secret")(_secret)


@router.post("", status_code=201, dependencies=[CanWrite], responses=TAKEN)
async def create_endpoint(body: EndpointIn, store: Store) -> dict[str, Any]:
    """Answers the endpoint with its secret (generated when none was sent)."""
    created = await store.create(body.url, body.secret, body.ratePerSecond)
    if created is None:
        raise HTTPException(409, "an endpoint with this URL exists")
    return created.to_json(with_secret=True)


@router.get("", dependencies=[CanRead])
async def list_endpoints(store: Store, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                         after: Annotated[str | None, Query(max_length=100)] = None,
                         ) -> dict[str, Any]:
    page = await store.page(limit, after)
    return {"endpoints": [e.to_json() for e in page],
            "nextAfter": page[-1].id if len(page) == limit else None}


@router.get("/{endpoint_id}", dependencies=[CanRead], responses=NOT_FOUND)
async def get_endpoint(endpoint_id: str, request: Request, store: Store) -> dict[str, Any]:
    """With ``breaker``: ``open`` while this executor holds its requests back after failures
    in a row."""
    found = _or_404(await store.get(endpoint_id)).to_json()
    found["breaker"] = "open" if request.app.state.worker.gate.is_open(endpoint_id) else "closed"
    return found


@router.get("/{endpoint_id}/secret", dependencies=[CanWrite], responses=NOT_FOUND)
async def get_secret(endpoint_id: str, store: Store) -> dict[str, Any]:
    """The current secret (a write scope: whoever holds it can sign as orderflow)."""
    return {"secret": _or_404(await store.get(endpoint_id)).secret}


@router.put("/{endpoint_id}", dependencies=[CanWrite], responses={**NOT_FOUND, **TAKEN})
async def update_endpoint(endpoint_id: str, body: EndpointUpdate, store: Store) -> dict[str, Any]:
    try:
        updated = await store.update(endpoint_id, body.url, body.ratePerSecond)
    except asyncpg.UniqueViolationError as exc:
        raise HTTPException(409, "an endpoint with this URL exists") from exc
    return _or_404(updated).to_json()


@router.delete("/{endpoint_id}", status_code=204, dependencies=[CanWrite], responses=NOT_FOUND)
async def delete_endpoint(endpoint_id: str, store: Store) -> Response:
    """Requests waiting for it go on without an endpoint; none is lost."""
    if not await store.delete(endpoint_id):
        raise HTTPException(404, "endpoint not found")
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", dependencies=[CanWrite], responses=NOT_FOUND)
async def rotate_secret(endpoint_id: str, request: Request, store: Store,
                        body: Rotation | None = None) -> dict[str, Any]:
    """A new secret; the previous one keeps signing beside it for
    ``ORDERFLOW_SECRET_ROTATION_GRACE`` seconds (two ``v1,`` signatures)."""
    grace = timedelta(seconds=request.app.state.settings.secret_rotation_grace)
    rotated = _or_404(await store.rotate(endpoint_id, body.secret if body else None, grace))
    return rotated.to_json(with_secret=True)


@router.post("/{endpoint_id}/enable", dependencies=[CanWrite], responses=NOT_FOUND)
async def enable_endpoint(endpoint_id: str, request: Request, store: Store) -> dict[str, Any]:
    """Active again (after a 410 Gone): the requests that waited for it are delivered."""
    enabled = _or_404(await store.enable(endpoint_id))
    request.app.state.worker.wake()
    return enabled.to_json()


def _or_404(found: Endpoint | None) -> Endpoint:
    if found is None:
        raise HTTPException(404, "endpoint not found")
    return found
