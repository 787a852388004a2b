"""OpenTelemetry: spans an app exported over OTLP become calls and spans (``spans``), whatever the attribute dialect
(``dialects``: the GenAI semantic conventions, OpenLLMetry's older keys, OpenInference). Pure code over the
official ``opentelemetry-proto`` messages; the receiver that serves OTLP is ``obs.collector``."""
