"""Dependencies of the routes: the store, the feed, scopes, and the checks a trigger passes
before it is saved (beyond what its model validates)."""

from __future__ import annotations

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
_IMMEDIATE = ("PT0S", "PT0M", "P0D")


def _store(request: Request) -> TriggerStore:
    return request.app.state.store  # type: ignore[no-any-return]


def _feed(request: Request) -> TriggerFeed:
    return request.app.state.feed  # type: ignore[no-any-return]


Store = Annotated[TriggerStore, Depends(_store)]
Feed = Annotated[TriggerFeed, Depends(_feed)]


def _refuse(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *loc), "msg": message,
                                    "type": "value_error"}])


def checked(spec: TriggerSpec) -> TriggerSpec:
    """422 naming the field for what the model cannot tell: expressions that do not compile or
    name unknown things, and delays / working windows, which need the durable runs of the next
    issue (refusing them is better than firing at the wrong time)."""
    if spec.delay not in _IMMEDIATE:
        raise _refuse(("delay",), 'delays are not supported yet: use "PT0S"')
    if spec.schedule.mode != "continuous":
        raise _refuse(("schedule", "mode"),
                      'working-hour windows are not supported yet: use "continuous"')
    try:
        CompiledTrigger.of(TriggerDefinition(**spec.model_dump(), id="-"))
    except InvalidTrigger as exc:
        raise _refuse(exc.loc, str(exc)) from exc
    return spec
