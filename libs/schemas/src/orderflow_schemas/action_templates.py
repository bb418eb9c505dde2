"""External actions for every order (templates): a module of their own because their conditions
are the triggers' (``triggers`` imports the effects, which define external actions)."""

from __future__ import annotations

from pydantic import Field

from .external_actions import ExternalActionSpec
from .triggers import Condition


class ExternalActionTemplateSpec(ExternalActionSpec):
    """An external action for every order, or for those where every condition holds (the
    trigger conditions' syntax, over ``order``)."""

    conditions: list[Condition] = Field(default_factory=list, max_length=50)
