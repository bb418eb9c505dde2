"""Conditions over plain data, as a service without events (the executor's templates) uses them."""

from __future__ import annotations

import gc

import pytest
from orderflow_rules import DataScope, ExpressionError, compile_condition, conditions
from orderflow_rules.expressions import reads_of
from orderflow_schemas import Condition


def holds(condition: dict[str, object], order: dict[str, object]) -> tuple[bool, object]:
    check = compile_condition(Condition.model_validate(condition), 0)
    return check.test(DataScope({"order": order}))


def test_fields_lists_and_cel_over_an_order() -> None:
    order = {"totalCost": 700, "items": [{"category": "devices"}, {"category": "books"}]}
    assert holds({"field": "order.totalCost", "op": "gt", "value": 500}, order) == (True, 700)
    assert holds({"field": "order.items.category", "op": "eq", "value": "books"}, order)[0]
    assert not holds({"field": "order.items.category", "op": "eq", "value": "toys",
                      "aggregate": "all"}, order)[0]
    assert holds({"expression": "size(order.items) == 2"}, order) == (True, True)
    assert holds({"field": "order.status", "op": "changed"}, order) == (False, "unchanged")


def test_an_expression_naming_unknown_things_does_not_compile() -> None:
    with pytest.raises(ExpressionError, match="unknown names shop"):
        compile_condition(Condition(expression="shop.open"), 0)


def test_what_an_expression_reads_of_each_root() -> None:
    roots = frozenset({"order", "event", "customer"})
    assert reads_of("order.totalCost > 5 && has(order . coupon)", frozenset({"order"})) == {
        ("order", "totalCost"), ("order", "coupon")}
    assert reads_of("size(order) > 2 && order.x == 1", frozenset({"order"})) == {
        ("order", None), ("order", "x")}
    assert reads_of("event.order.id == '1'", roots & {"event"}) == {("event", "order")}
    assert reads_of("'order' == customer.name", roots - {"event"}) == {
        ("order", None), ("customer", "name")}
    assert reads_of("order.items.all(order, order.cost > 1)", frozenset({"order"})) == {
        ("order", None)}


def test_an_equal_condition_in_many_triggers_is_compiled_once_and_kept_while_used() -> None:
    condition = Condition(expression="order.totalCost > 100 && size(order.items) > 0")
    first, other = compile_condition(condition, 0), compile_condition(condition, 2)
    assert (first.index, other.index) == (0, 2)  # each explanation names its own place
    assert first.test is other.test
    order = DataScope({"order": {"totalCost": 150, "items": [1]}})
    assert first.test(order) == other.test(order) == (True, True)
    key = first.key
    del first, other
    gc.collect()
    assert key not in conditions._COMPILED  # nothing kept after the triggers that used it
    fresh = compile_condition(condition, 1)
    assert fresh.index == 1 and fresh.test(order) == (True, True)
