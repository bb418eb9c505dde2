"""What one attempt of an effect came to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orderflow_schemas import ActionOutcome


@dataclass(frozen=True)
class Attempt:
    outcome: ActionOutcome
    detail: str = ""
    http_status: int | None = None
    retryable: bool = False
    retry_after: float | None = None  # the receiver's Retry-After, in seconds
    gone: bool = False  # 410: the endpoint is disabled and the request waits for it
    # (topic, key, message) that go out with the attempt's result, in its transaction
    emits: tuple[tuple[Any, str | None, Any], ...] = ()

    @classmethod
    def ok(cls, detail: str = "", http_status: int | None = None,
           emits: tuple[tuple[Any, str | None, Any], ...] = ()) -> Attempt:
        return cls(ActionOutcome.SUCCEEDED, detail, http_status, emits=emits)

    @classmethod
    def transient(cls, detail: str, http_status: int | None = None,
                  retry_after: float | None = None) -> Attempt:
        return cls(ActionOutcome.FAILED, detail, http_status, retryable=True,
                   retry_after=retry_after)

    @classmethod
    def endpoint_gone(cls, detail: str) -> Attempt:
        return cls(ActionOutcome.FAILED, detail, 410, gone=True)

    @classmethod
    def permanent(cls, detail: str, http_status: int | None = None) -> Attempt:
        return cls(ActionOutcome.DEAD, detail, http_status)

    @classmethod
    def skipped(cls, detail: str) -> Attempt:
        return cls(ActionOutcome.SKIPPED, detail)
