"""Conditions in the trigger syntax (``orderflow_schemas.Condition``) compiled into checks, for
the trigger-engine's triggers and the action-executor's external-action templates alike."""

from .conditions import Check, compile_condition, values_at
from .expressions import ExpressionError, compile_expression
from .scope import DataScope, Scope

__all__ = ["Check", "DataScope", "ExpressionError", "Scope", "compile_condition",
           "compile_expression", "values_at"]
