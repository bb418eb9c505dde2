"""orderflow_runtime: what every orderflow service shares (settings, logs, Kafka, PostgreSQL,
HTTP). Domain code lives in the services; messages and topics in ``orderflow_schemas``."""
