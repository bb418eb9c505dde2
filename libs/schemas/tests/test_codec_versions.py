"""A message's version decides how it is read: older ones are upcast, a newer one (or a version
that is not a whole number) is poison, never read as the current one."""

from __future__ import annotations

import orjson
import pytest
from orderflow_schemas import DecodeError, OrderEvent, OrderStatus, decode


def wire(**changes: object) -> bytes:
    event = OrderEvent(name="orderINITIALIZED", external_order_id="o-1",
                       status=OrderStatus.INITIALIZED, version_tag="v", order={})
    return orjson.dumps({**event.to_dict(), **changes})


def test_current_and_missing_versions_are_read() -> None:
    assert decode(OrderEvent, wire()).external_order_id == "o-1"
    missing = orjson.loads(wire())
    del missing["version"]
    assert decode(OrderEvent, orjson.dumps(missing)).version == OrderEvent.VERSION


@pytest.mark.parametrize("version", [OrderEvent.VERSION + 1, 999, "1", 1.5, True, -1])
def test_a_future_or_malformed_version_is_poison(version: object) -> None:
    with pytest.raises(DecodeError, match="version"):
        decode(OrderEvent, wire(version=version))
