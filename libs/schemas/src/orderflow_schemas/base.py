"""The base every orderflow message derives from.

Every message on a topic carries its ``type`` and ``version`` so that a consumer can tell what it
holds before it trusts the rest; a change of shape is a new version with an upcaster
(see ``upcasting.py``). Field names are camelCase on the wire, snake_case in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class WireModel(BaseModel):
    """camelCase on the wire, populated by either name in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_wire(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def wire_dict(cls, **values: Any) -> dict[str, Any]:
        """The wire form (camelCase, every field, defaults filled in) of values the caller
        vouches for, not validated: for hot paths that make thousands of messages a second from
        values they built themselves, where building the model and dumping it cost five times
        more than this. Nested messages go in as their wire dicts. The schemas' tests
        (``test_wire_of.py``) hold it to the model."""
        plan = _PLANS.get(cls) or _plan(cls)
        out = plan.template.copy()  # every field in order, with its default
        aliases = plan.aliases
        for name, value in values.items():
            alias = aliases.get(name)
            if alias is None:
                raise TypeError(f"{cls.__name__} has no field {name}")
            out[alias] = value
        for name, alias, factory in plan.factories:
            if name not in values:
                out[alias] = factory()
        missing = plan.required - values.keys()
        if missing:
            raise TypeError(f"{cls.__name__} needs {', '.join(sorted(missing))}")
        return out

    @classmethod
    def wire_of(cls, **values: Any) -> bytes:
        """``wire_dict`` as the bytes on the topic (what ``to_wire`` of the model would give)."""
        return orjson.dumps(cls.wire_dict(**values), default=str, option=orjson.OPT_UTC_Z)


@dataclass(frozen=True)
class _Plan:
    template: dict[str, Any]  # by alias, in field order: the defaults (None where required)
    aliases: dict[str, str]  # field name -> alias
    factories: tuple[tuple[str, str, Any], ...]  # (name, alias, default factory)
    required: frozenset[str]


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type[WireModel]) -> _Plan:
    fixed = {"type": getattr(cls, "TYPE", None), "version": getattr(cls, "VERSION", None)}
    template: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    factories: list[tuple[str, str, Any]] = []
    required: set[str] = set()
    for name, info in cls.model_fields.items():
        if issubclass(cls, Message) and name in fixed:
            template[name] = fixed[name]
            aliases[name] = name
            continue
        alias = aliases[name] = info.alias or name
        default = info.default
        if info.is_required():
            required.add(name)
            default = None
        elif info.default_factory is not None:
            factories.append((name, alias, info.default_factory))
            default = None
        elif default is PydanticUndefined:
            default = None
        template[alias] = default
    _PLANS[cls] = _Plan(template, aliases, tuple(factories), frozenset(required))
    return _PLANS[cls]


class Message(WireModel):
    """A message with an identity, a type and a version."""

    TYPE: ClassVar[str] = "message"
    VERSION: ClassVar[int] = 1

    id: str = Field(default_factory=new_id, description="Unique message id; consumers dedupe on it")
    type: str = Field(default="", description="Message type, fixed per class")
    version: int = Field(default=0, description="Schema version of this type")
    occurred_at: datetime = Field(default_factory=utcnow)

    def model_post_init(self, __context: Any) -> None:
        # Straight into __dict__: these are fixed per class, and pydantic's __setattr__ was a
        # tenth of the cost of reading a message (bench/history_bench.py).
        self.__dict__["type"] = self.TYPE
        self.__dict__["version"] = self.VERSION


def json_integer(value: Any) -> Any:
    # JSON Schema counts 120.0 as an integer, and so do we; strings and booleans stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer as JSON Schema means it: 3 and 3.0, never "3" or true. Bounds go in the same Field
# (given in a second one, they would not reach the JSON schema), and this comes after it.
JsonInt = BeforeValidator(json_integer)
