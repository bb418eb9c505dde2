"""Dependencies of the routes: the store, the feed, scopes, and the checks a trigger passes
before it is saved (beyond what its model validates)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from orderflow_runtime.web import require_scope
from orderflow_schemas import TriggerDefinition, TriggerSpec

from ..domain.evaluate import CompiledTrigger, InvalidTrigger
from ..store.feed import TriggerFeed
from ..store.triggers import TriggerStore

CanRead = Depends(require_scope("triggers.read"))
CanWrite = Depends(require_scope("triggers.write"))
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "trigger not found"}}


async def _store(request: Request) -> TriggerStore:
    return request.app.state.store  # type: ignore[no-any-return]


async def _feed(request: Request) -> TriggerFeed:
    return request.app.state.feed  # type: ignore[no-any-return]


Store = Annotated[TriggerStore, Depends(_store)]
Feed = Annotated[TriggerFeed, Depends(_feed)]


def _refuse(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *loc), "msg": message,
                                    "type": "value_error"}])


def checked(spec: TriggerSpec, min_delay: timedelta) -> TriggerSpec:
    """422 naming the field for what the model cannot tell: a delay shorter than the platform's
    minimum (``ORDERFLOW_MIN_DELAY``; no delay at all is always allowed), and expressions that
    do not compile or name unknown things."""
    delay = spec.delay_time
    if timedelta(0) < delay < min_delay:
        field = "delayMinutes" if spec.delay_minutes is not None else "delay"
        raise _refuse((field,), f"the shortest delay is {_iso(min_delay)} (ORDERFLOW_MIN_DELAY); "
                                f"got {spec.delay}")
    try:
        CompiledTrigger.of(TriggerDefinition(**spec.model_dump(), id="-"))
    except InvalidTrigger as exc:
        raise _refuse(exc.loc, str(exc)) from exc
    return spec


def _iso(value: timedelta) -> str:
    return f"PT{int(value.total_seconds())}S"


async def _min_delay(request: Request) -> timedelta:
    return request.app.state.min_delay  # type: ignore[no-any-return]


MinDelay = Annotated[timedelta, Depends(_min_delay)]
