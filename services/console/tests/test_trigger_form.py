"""The trigger editor's form and the API body: what a person fills in becomes the trigger the API
takes, a trigger from the API fills the form back, and the API's field errors land on the form
rows they came from (blank rows are dropped before the body is sent)."""

from __future__ import annotations

from orderflow_console import trigger_form as tf
from orderflow_schemas import TriggerSpec


def test_a_filled_form_is_a_valid_trigger_and_comes_back_the_same() -> None:
    form = {
        "name": "courier", "enabled": "on", "listen.kind": "fieldChange",
        "listen.field": "deliveryMethod", "listen.fieldTo": "courier",
        "conditions.0.field": "", "conditions.1.field": "order.totalCost",
        "conditions.1.op": "gt", "conditions.1.value": "500",
        "conditions.2.field": "order.status", "conditions.2.op": "in",
        "conditions.2.value": "DELIVERED, IN_PROGRESS",
        "conditions.3.expression": "size(order.items) >= 2",
        "delay": "PT5M", "schedule.mode": "window", "schedule.weekdays": ["1", "2", "3"],
        "schedule.start": "09:00", "schedule.end": "17:00", "schedule.timezone": "Europe/Warsaw",
        "frequency.mode": "once_per_period", "frequency.period": "P30D",
        "effects.0.type": "http", "effects.0.method": "POST",
        "effects.0.url": "https://crm.example/{id_order}", "effects.0.expectedStatus": "200, 201",
        "effects.0.headers": "X-Shop: one\nX-Mode: test", "effects.0.body": '{"id": "{id_order}"}',
        "effects.1.type": "", "effects.2.type": "internal", "effects.2.kind": "change_order",
        "effects.2.changes": 'deliveryMethod = courier\nshipping = 4.5',
        "steps.0.after": "P14D", "steps.0.effects.0.type": "email",
        "steps.0.effects.0.subject": "Review {id_order}", "steps.0.effects.0.body": "Thanks",
        "stopWhen.0.field": "order.status", "stopWhen.0.op": "eq",
        "stopWhen.0.value": "CANCELLED",
    }
    built = tf.build(form)
    spec = TriggerSpec.model_validate(built.body)
    assert built.body["event"] == {"fieldChange": {"field": "deliveryMethod", "to": "courier"}}
    body = built.body
    assert [c.get("value") for c in body["conditions"]] == [
        500, ["DELIVERED", "IN_PROGRESS"], None]
    assert body["conditions"][2] == {"expression": "size(order.items) >= 2"}
    assert body["effects"][0]["headers"] == {"X-Shop": "one", "X-Mode": "test"}
    assert body["effects"][0]["expectedStatus"] == [200, 201]
    assert body["effects"][1]["params"] == {"changes": {"deliveryMethod": "courier",
                                                        "shipping": 4.5}}
    assert body["schedule"]["weekdays"] == [1, 2, 3]
    # Rows 1-3 of the form are conditions 0-2 of the API; effect row 2 is effect 1.
    assert built.form_errors({"conditions.0.value": "bad", "effects.1.params": "bad",
                              "steps.0.after": "bad", "name": "bad"}) == {
        "conditions.1.value": "bad", "effects.2.params": "bad", "steps.0.after": "bad",
        "name": "bad"}

    again = tf.build(tf.flatten(spec.to_dict()))
    assert TriggerSpec.model_validate(again.body) == spec


def test_each_kind_of_listening() -> None:
    for form, event in [
        ({"listen.kind": "event", "listen.event": "orderUPDATED"}, "orderUPDATED"),
        ({"listen.kind": "action", "listen.action": "ConfirmOrder"}, "action:ConfirmOrder"),
        ({"listen.kind": "statusChange", "listen.from": "IN_PROGRESS", "listen.to": "DELIVERED"},
         {"statusChange": {"from": "IN_PROGRESS", "to": "DELIVERED"}}),
    ]:
        body = tf.build({"name": "x", **form, "effects.0.type": "sms",
                         "effects.0.text": "hi"}).body
        assert body["event"] == event
        assert tf.flatten(TriggerSpec.model_validate(body).to_dict())["listen.kind"] == \
            form["listen.kind"]


def test_what_the_form_has_no_inputs_for_is_kept_on_save() -> None:
    trigger = TriggerSpec.model_validate({
        "name": "many", "events": ["orderDELIVERED", "action:ConfirmOrder"],
        "effects": [{"type": "external_action", "action": "reserve", "params": {"sku": "A"}},
                    {"type": "external_action", "define": {
                        "type": "LINK", "name": {"en_US": "Shop"},
                        "url": "https://shop.example/{id_order}"}}],
        "steps": [{"after": "P1D", "effects": [{"type": "sms", "text": "a"},
                                               {"type": "sms", "text": "b"}]}]})
    again = TriggerSpec.model_validate(tf.build(tf.flatten(trigger.to_dict())).body)
    assert again == trigger
