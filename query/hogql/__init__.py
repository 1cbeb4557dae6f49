"""HogQL → ClickHouse SQL: parse → resolve → passes → print, on top of sqlglot's ClickHouse dialect."""
