"""What one attempt of an effect came to."""

from __future__ import annotations

from dataclasses import dataclass

from orderflow_schemas import ActionOutcome


@dataclass(frozen=True)
class Attempt:
    outcome: ActionOutcome
    detail: str = ""
    http_status: int | None = None
    retryable: bool = False

    @classmethod
    def ok(cls, detail: str = "", http_status: int | None = None) -> Attempt:
        return cls(ActionOutcome.SUCCEEDED, detail, http_status)

    @classmethod
    def transient(cls, detail: str, http_status: int | None = None) -> Attempt:
        return cls(ActionOutcome.FAILED, detail, http_status, retryable=True)

    @classmethod
    def permanent(cls, detail: str, http_status: int | None = None) -> Attempt:
        return cls(ActionOutcome.DEAD, detail, http_status)

    @classmethod
    def skipped(cls, detail: str) -> Attempt:
        return cls(ActionOutcome.SKIPPED, detail)
