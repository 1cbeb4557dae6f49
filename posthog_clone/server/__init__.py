"""Running the server: `manage.py serve` (granian or gunicorn web processes and the engine process that owns an
embedded chDB), `manage.py clickhouse_engine`, and what each process does at start and at exit."""
