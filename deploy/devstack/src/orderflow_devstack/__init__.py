"""orderflow's local development stack: the pieces `make run` and the test fixtures share.

- ``broker``: a Kafka-protocol broker (Tansu, in memory) started as a subprocess.
- ``database``: a PostgreSQL server (local, embedded or given) and fresh databases on it.
- ``containers``: Docker detection and testcontainers, used only when a Docker engine answers.
- ``launcher``: the four services as subprocesses, health waits and clean stops.
- ``run``: the foreground platform runner behind ``make run`` (``orderflow-dev``).
- ``pytest_plugin``: session fixtures built from the above.
"""
