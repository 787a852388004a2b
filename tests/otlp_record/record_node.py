"""Record the Node app (record_openinference_js.js): serve the recorder and the fake OpenAI API, run node once per
OTLP protocol, and save each case the script reports as done.

    python record_node.py          # needs `npm ci` in tests/otlp_node first
"""

import os
import subprocess
from pathlib import Path
from typing import Any

from harness import FIXTURES, FakeOpenAI, FakeServer
from recorder import Recorder, save_case, write_manifest

HERE = Path(__file__).resolve().parent
RUNS = [  # (fixture folder, OTEL_EXPORTER_OTLP_PROTOCOL, cases)
    ("openinference_js", "http/protobuf", "chat,stream,tool_call,error_429"),
    ("openinference_js_json", "http/json", "chat,stream"),
    ("openinference_js_grpc", "grpc", "chat"),
]


def main() -> None:
    recorder = Recorder(grpc=True)
    fake_server = FakeServer(FakeOpenAI())
    for folder, protocol, cases in RUNS:
        endpoint = recorder.grpc_url if protocol == "grpc" else recorder.url
        env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
               "OPENAI_BASE_URL": fake_server.url, "CASES": cases}  # fmt: skip
        script = HERE / "record_openinference_js.js"
        process = subprocess.Popen(["node", str(script)], env=env, stdout=subprocess.PIPE, text=True)
        manifest: dict[str, Any] = {}
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("CASE_DONE "):
                case = line.split()[1]
                items = recorder.take()
                save_case(FIXTURES / folder, case, items, manifest)
                print(f"{folder}/{case}: " + ", ".join(f"{i.transport} {i.path} {len(i.body)} B" for i in items))
        if process.wait() != 0:
            raise SystemExit(f"node exited with {process.returncode}")
        write_manifest(FIXTURES / folder, manifest)
    recorder.close()
    fake_server.close()


if __name__ == "__main__":
    main()
