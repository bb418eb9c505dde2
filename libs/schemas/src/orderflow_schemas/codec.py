"""Turning topic bytes into messages, with upcasting of older versions.

Exceptions::

    DecodeError          the bytes are not a message of the topic's type (poison: DLQ at once)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

# (type, from_version) -> function that returns the dict at from_version + 1
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class DecodeError(ValueError):
    """The message cannot be decoded or validated; the text says why."""


def upcast(data: dict[str, Any], target_version: int) -> dict[str, Any]:
    kind, version = data.get("type", ""), int(data.get("version") or target_version)
    while version < target_version:
        step = UPCASTERS.get((kind, version))
        if step is None:
            raise DecodeError(f"no upcaster for {kind} v{version}")
        data = step(data)
        version += 1
        data["version"] = version
    return data


def parse(model: type[BaseModel], raw: bytes | None) -> dict[str, Any]:
    """The JSON object of a message of ``model`` as it was sent: not upcast, not validated."""
    if raw is None:
        raise DecodeError("empty message (no value)")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DecodeError(f"expected a JSON object, got {type(data).__name__}")
    expected = getattr(model, "TYPE", None)
    if expected and data.get("type") not in (None, expected):
        raise DecodeError(f"expected type {expected!r}, got {data.get('type')!r}")
    return data


def load(model: type[BaseModel], raw: bytes | None) -> tuple[dict[str, Any], bool]:
    """``parse``, then upcast to the model's version: not validated yet. The flag is true when
    the message was at that version already, so ``raw`` is still its exact text."""
    data = parse(model, raw)
    target = getattr(model, "VERSION", None)
    if target is None:
        return data, True
    version = data.get("version") or target
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise DecodeError(f"version must be a whole number, got {version!r}")
    if version > target:
        # A newer producer's message: its fields may mean what this service cannot know.
        raise DecodeError(f"version {version} of {data.get('type')!r} is newer than the "
                          f"{target} this service reads")
    if version == target:
        return data, True
    return upcast(data, target), False


def validate(model: type[T], data: dict[str, Any]) -> T:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DecodeError(describe(exc)) from exc


def decode(model: type[T], raw: bytes | None) -> T:
    if raw is not None and not hasattr(model, "TYPE"):
        # No type to check and nothing to upcast: straight from the bytes, a fifth faster. A
        # failure goes the long way round for its clearer reason.
        try:
            return model.model_validate_json(raw)
        except ValidationError:
            pass
    return validate(model, load(model, raw)[0])


def describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
                     for e in exc.errors())
