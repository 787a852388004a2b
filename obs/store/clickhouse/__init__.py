"""ClickHouse as obs's store: a server over HTTP (``clickhouse://``) or embedded in the process (``chdb:///path``)."""
