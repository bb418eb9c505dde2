"""The order's contact as a message recipient (seed 001: no message to an invalid contact).
Checked with well-kept validators: ``phonenumbers`` (Google's libphonenumber rules) and
``email-validator`` (syntax only: no DNS look-up on the delivery path)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class NoRecipient(ValueError):
    """The order has no usable phone number or e-mail address; the text says why."""


def phone_of(order: Mapping[str, Any], region: str) -> str:
    """The order's phone in E.164; ``region`` reads numbers written without a country code."""
    raw = order.get("phone")
    if not raw or not isinstance(raw, str):
        raise NoRecipient("the order has no phone number")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise NoRecipient(f"phone number {raw!r} cannot be read: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise NoRecipient(f"phone number {raw!r} is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_of(order: Mapping[str, Any]) -> str:
    raw = order.get("email")
    if not raw or not isinstance(raw, str):
        raise NoRecipient("the order has no e-mail address")
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise NoRecipient(f"e-mail address {raw!r} is not valid: {exc}") from exc
