"""``obs collector``: an OTLP receiver (OTLP/HTTP ``POST /v1/traces`` in protobuf or JSON, gzip or not, and
OTLP/gRPC ``TraceService/Export``) that stores what any OpenTelemetry GenAI instrumentation exports, through the
recorder like the SDK's calls (privacy policy, spool, exactly once per span id)."""
