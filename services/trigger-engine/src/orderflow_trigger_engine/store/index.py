"""The triggers a worker holds in memory, filed by what they listen to: the cost of an event
depends on the triggers listening to it, not on how many there are."""

from __future__ import annotations

import logging

from orderflow_schemas import TriggerDefinition
from prometheus_client import Gauge

from ..domain.evaluate import CompiledTrigger, InvalidTrigger
from ..domain.events import EventView, Key

log = logging.getLogger(__name__)
HELD = Gauge("orderflow_triggers_enabled", "Enabled triggers held in memory by this worker")


class TriggerIndex:
    def __init__(self) -> None:
        self._by_id: dict[str, CompiledTrigger] = {}
        self._by_key: dict[Key, dict[str, CompiledTrigger]] = {}
        self._limited: set[str] = set()  # triggers with a frequency limit

    @property
    def limits_frequency(self) -> bool:
        """Whether a trigger held has a frequency limit: only then does a batch need to know
        when triggers last fired for its orders."""
        return bool(self._limited)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, trigger_id: str) -> CompiledTrigger | None:
        return self._by_id.get(trigger_id)

    def put(self, definition: TriggerDefinition) -> None:
        """Hold this revision (or drop the trigger when it is disabled)."""
        held = self._by_id.get(definition.id)
        if held is not None and held.definition.revision > definition.revision:
            return  # an older revision arriving late
        self.remove(definition.id)
        if not definition.enabled:
            return
        try:
            compiled = CompiledTrigger.of(definition)
        except InvalidTrigger as exc:  # the API refuses these; one stored earlier is skipped
            log.error("trigger does not compile", extra={"trigger": definition.id,
                                                         "error": str(exc)})
            return
        self._by_id[definition.id] = compiled
        if compiled.limits_frequency:
            self._limited.add(definition.id)
        for key in compiled.keys:
            self._by_key.setdefault(key, {})[definition.id] = compiled
        HELD.set(len(self._by_id))

    def remove(self, trigger_id: str) -> None:
        held = self._by_id.pop(trigger_id, None)
        if held is None:
            return
        self._limited.discard(trigger_id)
        for key in held.keys:
            bucket = self._by_key.get(key)
            if bucket is not None:
                bucket.pop(trigger_id, None)
                if not bucket:
                    del self._by_key[key]
        HELD.set(len(self._by_id))

    def listening(self, event: EventView) -> list[CompiledTrigger]:
        """The triggers that listen to ``event``, each once, in a stable order."""
        found: dict[str, CompiledTrigger] = {}
        for key in event.index_keys():
            bucket = self._by_key.get(key)
            if bucket:
                found.update(bucket)
        return [t for _, t in sorted(found.items()) if t.by_key_alone or t.listens_to(event)]
