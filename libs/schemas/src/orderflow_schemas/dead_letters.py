"""What goes to ``orderflow.dlq``: the original bytes and the reason."""

from __future__ import annotations

import base64
from typing import ClassVar

from pydantic import Field

from .base import Message

# The most of a poison message's bytes a dead letter carries: base64 makes them a third larger,
# and a dead letter over the broker's 1 MB message limit could not be sent at all (a consumer
# publishing it would be stuck on it). The reason says how much was cut.
MAX_DEAD_LETTER_BYTES = 600_000
MAX_REASON = 2000


class DeadLetter(Message):
    TYPE: ClassVar[str] = "dead_letter"

    service: str
    reason: str
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    key_b64: str | None = None
    value_b64: str = Field(description="The original message bytes, base64")
    external_order_id: str | None = None

    @classmethod
    def of(
        cls,
        *,
        service: str,
        reason: str,
        value: bytes | None,
        key: bytes | None = None,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        external_order_id: str | None = None,
    ) -> DeadLetter:
        """The dead letter of ``value``: at most ``MAX_DEAD_LETTER_BYTES`` of it."""
        value = value or b""
        reason = reason[:MAX_REASON]
        if len(value) > MAX_DEAD_LETTER_BYTES:
            reason += f" [value of {len(value)} bytes: its first {MAX_DEAD_LETTER_BYTES} kept]"
            value = value[:MAX_DEAD_LETTER_BYTES]
        return cls(
            service=service,
            reason=reason,
            source_topic=topic,
            source_partition=partition,
            source_offset=offset,
            key_b64=base64.b64encode(key).decode() if key is not None else None,
            value_b64=base64.b64encode(value).decode(),
            external_order_id=external_order_id,
        )

    @property
    def original_value(self) -> bytes:
        return base64.b64decode(self.value_b64)
