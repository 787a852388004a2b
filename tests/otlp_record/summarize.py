"""Print the spans (or log records) of recorded fixtures in a compact, readable form: for writing NOTES.md.

python summarize.py ../otlp_fixtures/openllmetry/chat.pb ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def value(v: dict[str, Any]) -> Any:
    if "arrayValue" in v:
        return [value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: value(kv.get("value", {})) for kv in v["kvlistValue"].get("values", [])}
    for key in ("stringValue", "intValue", "doubleValue", "boolValue", "bytesValue"):
        if key in v:
            return v[key]
    return None


def attrs(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {kv["key"]: value(kv.get("value", {})) for kv in items}


def load(path: Path) -> dict[str, Any]:
    if path.suffix == ".json":
        return json.loads(path.read_text())
    message = ExportLogsServiceRequest() if ".logs" in path.name else ExportTraceServiceRequest()
    message.ParseFromString(path.read_bytes())
    return json_format.MessageToDict(message)


def main() -> None:
    for name in sys.argv[1:]:
        data = load(Path(name))
        print(f"### {name}")
        for rs in data.get("resourceSpans", []):
            print("resource:", attrs(rs.get("resource", {}).get("attributes", [])))
            for ss in rs.get("scopeSpans", []):
                print("scope:", ss.get("scope", {}).get("name"), ss.get("scope", {}).get("version"))
                for span in ss.get("spans", []):
                    print(
                        f"- span {span['name']!r} kind={span.get('kind')} parent={'parentSpanId' in span}"
                        f" status={span.get('status', {})}"
                    )
                    for k, v in attrs(span.get("attributes", [])).items():
                        print(f"    {k} = {json.dumps(v)[:300]}")
                    for event in span.get("events", []):
                        print(f"    event {event['name']}: {json.dumps(attrs(event.get('attributes', [])))[:400]}")
        for rl in data.get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                print("scope:", sl.get("scope", {}).get("name"))
                for log in sl.get("logRecords", []):
                    print(
                        f"- log event_name={log.get('eventName')!r} span={'spanId' in log}"
                        f" attrs={json.dumps(attrs(log.get('attributes', [])))[:300]}"
                    )
                    print(f"    body={json.dumps(value(log.get('body', {})))[:600]}")


if __name__ == "__main__":
    main()
