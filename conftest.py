"""Root conftest: loads the shared fixtures (``kafka_bootstrap``, ``database_url``,
``topic_prefix``, ``service_env``, ``platform``) for every test directory: tests/,
libs/*/tests, services/*/tests and deploy/. They live in ``orderflow_devstack.pytest_plugin``."""

pytest_plugins = ["orderflow_devstack.pytest_plugin"]
