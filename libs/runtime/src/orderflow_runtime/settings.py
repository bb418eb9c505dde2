"""Settings every service has. Each service's ``config.py`` extends ``CommonSettings``; every
field is read from ``ORDERFLOW_<NAME>``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/orderflow"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERFLOW_", extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    kafka_session_timeout_ms: int = Field(
        6000, description="Consumer group session timeout; short so that groups join fast in dev"
    )
    kafka_fetch_wait_ms: int = Field(
        500, ge=0,
        description="Longest time the broker may hold a consumer's fetch when there is nothing new "
        "(fetch.wait.max.ms), for consumers off an order's way to its effects (history, known "
        "orders, comments)")
    kafka_fetch_wait_hot_ms: int = Field(
        100, ge=0,
        description="The same for the consumers an order passes on its way to its effects "
        "(ingest's processor, the trigger engine, the executor's intake). The dev broker (Tansu) "
        "answers a held fetch at about half this wait even when data arrived earlier (measured: "
        "500 gave 0-250 ms per hop, 100 gave 0-50 ms, at 0.14% of a core per fetch per second); "
        "Kafka answers as soon as data arrives either way")
    topic_partitions: int = Field(
        0, ge=0,
        description="Partitions of each topic a service creates (topics that exist are left as "
        "they are); 0: the topic registry's count (6). Tansu spends CPU on every partition of "
        "every fetch and produce: make run sets 2 with Tansu, which halves the broker's CPU per "
        "order (bench/pipeline_bench.py); two members of a consumer group still share the work")
    kafka_idle_after_s: float = Field(
        0.0, ge=0,
        description="Seconds without records after which a consumer stops fetching until a "
        "service that produced to its topics wakes it (PostgreSQL NOTIFY) or "
        "ORDERFLOW_KAFKA_IDLE_PEEK_S passed; 0: never. For brokers whose idle fetches cost CPU "
        "(Tansu: make run sets 2); Kafka holds a fetch until data comes, so leave it 0 there")
    kafka_idle_peek_s: float = Field(
        2.0, gt=0,
        description="How often a resting consumer fetches once anyway: the longest a record "
        "from a producer that does not notify (an ERP writing to the inbound topic) waits")
    topic_prefix: str = Field("", description="Prefix of every topic name (tests isolate by it)")
    database_url: str = Field(DEFAULT_DATABASE_URL, description="PostgreSQL DSN")
    db_pool_size: int = Field(10, ge=1, description="Largest PostgreSQL pool size")
    api_keys: str = Field(
        "",
        description="Comma-separated API keys; 'key' has every scope, 'key:scope1+scope2' "
        "only those",
    )
    http_host: str = Field("127.0.0.1", description="Address the HTTP server binds")
    http_port: int = Field(8000, description="Port of the HTTP server")
    log_level: str = Field("INFO", description="Python log level")


class HttpLimits(BaseSettings):
    """Limits of every service's HTTP input (``web.create_app``)."""

    model_config = SettingsConfigDict(env_prefix="ORDERFLOW_", extra="ignore")

    max_body_bytes: int = Field(
        8_000_000, ge=1,
        description="Largest request body; larger ones are answered 413. 1000 orders of ten "
                    "items with long names and addresses take about 4 MB")
    max_json_depth: int = Field(
        32, ge=2, description="Deepest nesting of a JSON body; deeper ones are refused (4xx)")
