"""`obs collector`: receive OpenTelemetry spans over OTLP (HTTP and gRPC) and store them as calls and spans."""

from __future__ import annotations

import os
import signal
import threading

import click

from obs import config
from obs.cli.options import database_url_option, friendly_errors, is_loopback
from obs.recorder.queue import Recorder
from obs.store import db
from obs.store.store import Store


@click.command()
@database_url_option
@click.option("--host", default=config.COLLECTOR_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=config.COLLECTOR_HTTP_PORT, show_default=True,
              help="OTLP/HTTP port (POST /v1/traces).")  # fmt: skip
@click.option("--grpc-port", type=click.IntRange(0, 65535), default=config.COLLECTOR_GRPC_PORT, show_default=True,
              help="OTLP/gRPC port; 0 serves HTTP only.")  # fmt: skip
@friendly_errors
def collector(database_url: str | None, host: str, port: int, grpc_port: int) -> None:
    """Serve OTLP: point any OpenTelemetry exporter here (OTEL_EXPORTER_OTLP_ENDPOINT=http://HOST:4318).

    LLM spans (GenAI conventions, OpenLLMetry, OpenInference) become calls, every other span a span of its trace.
    Loopback only unless $OBS_COLLECTOR_TOKEN is set (then every request needs "Authorization: Bearer TOKEN").
    """
    try:
        from obs.collector.receiver import Receiver
        from obs.collector.server import TRACES_PATH, serve
    except ImportError as exc:  # the OTLP messages and grpcio come with the extra
        raise click.ClickException(f"obs collector needs {exc.name}: pip install 'obs[collector]'") from None
    token = os.environ.get(config.ENV_COLLECTOR_TOKEN) or None
    if not is_loopback(host) and token is None:
        raise click.ClickException(
            f"refusing to take spans on {host} from anyone: set {config.ENV_COLLECTOR_TOKEN} (exporters then send "
            "the header Authorization: Bearer <token>), or use --host 127.0.0.1"
        )
    store = Store(database_url)  # a wrong URL fails here, with one line; the store is migrated
    where = db.display_url(store.engine.url)
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    recorder = Recorder(url)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    try:
        web, rpc, _ = serve(Receiver(recorder, token=token), host, port, grpc_port or None)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc.strerror or exc}") from None
    grpc_text = f", OTLP/gRPC on {host}:{grpc_port}" if grpc_port else ""
    click.echo(f"OTLP/HTTP on http://{host}:{port}{TRACES_PATH}{grpc_text} -> {where}  (Ctrl+C stops it)")
    try:
        stop.wait()
    finally:
        web.shutdown()
        if rpc is not None:
            rpc.stop(grace=5).wait()
        stored = recorder.flush(config.COLLECTOR_STORE_TIMEOUT_S)
        recorder.shutdown(timeout=1.0)
        click.echo("Stopped." if stored else "Stopped; some spans are in the spool (obs spool replay).")
