"""`obs proxy`: a logging proxy for apps that change only their base URL (OpenAI's and Anthropic's APIs)."""

from __future__ import annotations

import asyncio
import os
import signal

import click

from obs import config
from obs.cli.options import database_url_option, friendly_errors, is_loopback
from obs.recorder.queue import Recorder
from obs.store import db
from obs.store.store import Store


@click.command()
@database_url_option
@click.option("--host", default=config.PROXY_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=config.PROXY_PORT, show_default=True,
              help="Port to listen on.")  # fmt: skip
@friendly_errors
def proxy(database_url: str | None, host: str, port: int) -> None:
    """Relay OpenAI- and Anthropic-API calls to their provider and record each one.

    \b
    OpenAI SDK:     base_url="http://HOST:PORT/v1"
    Anthropic SDK:  base_url="http://HOST:PORT"
    Another provider from $OBS_PROVIDERS_FILE:  http://HOST:PORT/p/NAME/v1
    Headers obs-user-id, obs-session-id, obs-tenant-id, obs-feature, obs-prompt-version, obs-trace-id,
    obs-parent-id, obs-metadata-KEY and traceparent describe the call; they are not forwarded.
    Loopback only unless $OBS_PROXY_TOKEN is set (then clients send it in the obs-proxy-token header).
    """
    try:
        from obs.proxy.server import ProxyServer, event_loop_policy, serve
    except ImportError as exc:  # aiohttp comes with the extra
        raise click.ClickException(f"obs proxy needs {exc.name}: pip install 'obs[proxy]'") from None
    from obs.replay.providers import available

    token = os.environ.get(config.ENV_PROXY_TOKEN) or None
    if not is_loopback(host) and token is None:
        raise click.ClickException(
            f"refusing to relay calls for anyone on {host}: set {config.ENV_PROXY_TOKEN} (clients then send the "
            f"header {config.PROXY_TOKEN_HEADER}: <token>), or use --host 127.0.0.1"
        )
    timeout = _timeout()
    providers = available()  # a bad OBS_PROVIDERS_FILE fails here, with what is wrong
    store = Store(database_url)  # a wrong URL fails here, with one line; the store is migrated
    where = db.display_url(store.engine.url)
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    recorder = Recorder(url)
    server = ProxyServer(recorder, providers, token=token, read_timeout_s=timeout)
    event_loop_policy()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        try:
            await serve(server, host, port, stop, started=announce, own_process=True)
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    named = sorted(set(providers) - {"openai", "anthropic"})
    others = f"; /p/<name>/v1 for {', '.join(named)}" if named else ""

    listening = []

    def announce() -> None:  # once it listens: a client that read this line can connect
        listening.append(True)
        click.echo(f"obs proxy on http://{host}:{port}/v1 (OpenAI API) and http://{host}:{port} (Anthropic API)"
                   f"{others} -> {where}  (Ctrl+C stops it)")  # fmt: skip

    try:
        asyncio.run(run())
    finally:
        stored = recorder.flush(config.COLLECTOR_STORE_TIMEOUT_S)
        recorder.shutdown(timeout=1.0)
        if listening:
            click.echo("Stopped." if stored else "Stopped; some calls are in the spool (obs spool replay).")


def _timeout() -> float:
    value = os.environ.get(config.ENV_PROXY_TIMEOUT)
    if not value:
        return config.PROXY_READ_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise click.ClickException(f"{config.ENV_PROXY_TIMEOUT}={value!r}: give a number of seconds above 0")
    return seconds
