"""The AsyncAPI document and the JSON Schemas of every message, generated from the registry.

``orderflow-schemas export docs`` writes them; ``orderflow-schemas check docs`` fails when the
committed copies are out of date (a test runs it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .topics import ALL_TOPICS


def json_schemas() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for topic in ALL_TOPICS:
        model = topic.value_model
        out[model.__name__] = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    return out


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        name = topic.value_model.__name__
        messages[name] = {
            "name": name,
            "contentType": "application/json",
            "payload": {"$ref": f"./schemas/{name}.json"},
        }
        channel_id = topic.name.replace(".", "_").replace("-", "_")
        channels[channel_id] = {
            "address": topic.name,
            "description": topic.description,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "kafka": {
                    "partitions": topic.partitions,
                    "topicConfiguration": {"cleanup.policy": [topic.cleanup_policy]},
                }
            },
            "x-key": topic.key,
            "x-direction": topic.direction,
        }
        # "send" from orderflow's point of view unless upstream systems write it.
        action = "receive" if topic.direction == "inbound" else "send"
        operations[f"{action}_{channel_id}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "orderflow topics",
            "version": "1.0.0",
            "description": "Generated from libs/schemas (orderflow_schemas.topics); do not edit.",
        },
        "servers": {"dev": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def rendered(docs: Path) -> dict[Path, str]:
    files = {docs / "asyncapi.json": _dump(asyncapi_document())}
    for name, schema in json_schemas().items():
        files[docs / "schemas" / f"{name}.json"] = _dump(schema)
    return files


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"
