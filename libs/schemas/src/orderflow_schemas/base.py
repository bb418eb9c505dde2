"""The base every orderflow message derives from.

Every message on a topic carries its ``type`` and ``version`` so that a consumer can tell what it
holds before it trusts the rest; a change of shape is a new version with an upcaster
(see ``upcasting.py``). Field names are camelCase on the wire, snake_case in Python.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


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
