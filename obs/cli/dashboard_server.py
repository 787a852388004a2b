"""`python -m obs.cli.dashboard_server APP [streamlit run options]`: `streamlit run`, stopped within a bound.

`obs dashboard` execs this (one process: a supervisor's SIGTERM reaches the server itself). Streamlit stops on
SIGTERM, SIGINT and SIGQUIT by itself, but its shutdown can wait on something that never ends (a connection that
does not close, a thread of a page that does not return), and the process keeps its port. So the first stop signal
also starts a watchdog: DASHBOARD_STOP_TIMEOUT_S later the process exits, whatever Streamlit is doing.

The watchdog hears the signal through the wakeup fd, not through a handler of its own: Streamlit (1.67,
``bootstrap.run_server``) installs its handlers once its server has started, replacing any installed before, and a
Python handler runs only in the main thread, the one a stuck shutdown may be stuck in. The interpreter's C-level
handler writes every signal's number to the wakeup fd before any Python code runs, and nothing else here sets one.

Streamlit is run through its own command line (``python -m streamlit``), so obs imports no Streamlit here.
"""

from __future__ import annotations

import atexit
import gc
import os
import runpy
import signal
import socket
import sys
import threading
import time

from obs import config

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})
#: When even the watchdog thread cannot run any more (the interpreter is tearing itself down), the kernel ends the
#: process this long after the watchdog's own deadline (SIGALRM, whose default action is to terminate).
ALARM_GRACE_S = 1.0

_wakeup: list[socket.socket] = []  # both ends stay open for the life of the process


def bound_stop(timeout_s: float) -> None:
    """From now on, end the process ``timeout_s`` after its first stop signal if it has not ended (main thread)."""
    listen, notify = socket.socketpair()
    notify.setblocking(False)
    signal.set_wakeup_fd(notify.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    _wakeup[:] = [listen, notify]
    threading.Thread(target=_watch, args=(listen, timeout_s), name="obs-stop-watchdog", daemon=True).start()
    # Once the interpreter exits, whatever made it exit, its teardown is bounded too: a stop signal's handler may
    # end the process before the watchdog thread has run at all (a busy machine), and after the exit handlers no
    # thread of Python runs again.
    atexit.register(_alarm, timeout_s + ALARM_GRACE_S)


def _alarm(seconds: float) -> None:
    """Let the kernel end the process in ``seconds``, unless an earlier alarm is already set."""
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if not remaining or remaining > seconds:
        signal.setitimer(signal.ITIMER_REAL, seconds)


def _watch(listen: socket.socket, timeout_s: float) -> None:
    stops: list[int] = []
    while not stops:
        received = listen.recv(64)
        if not received:
            return
        stops = [number for number in received if number in STOP_SIGNALS]
    _alarm(timeout_s + ALARM_GRACE_S)
    time.sleep(timeout_s)
    name = signal.Signals(stops[0]).name
    # os.write, not print: the main thread may be stuck holding sys.stderr's lock.
    os.write(2, f"obs: the dashboard had not stopped {timeout_s:g} s after {name}; exiting anyway\n".encode())
    os._exit(128 + stops[0])


def main() -> None:
    """Serve APP with `streamlit run` and the options given, stopping within DASHBOARD_STOP_TIMEOUT_S of a signal."""
    bound_stop(config.DASHBOARD_STOP_TIMEOUT_S)
    # Streamlit's server (uvicorn) runs on uvloop when it can import it (obs's `proxy` extra installs it), and
    # uvloop takes the signal wakeup fd for itself: the watchdog would never hear the stop. The dashboard does
    # not need uvloop; asyncio's own loop leaves the fd alone.
    sys.modules.setdefault("uvloop", None)  # type: ignore[arg-type]
    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    try:
        runpy.run_module("streamlit", run_name="__main__")
    finally:
        # The server has stopped. The interpreter's last garbage collections over the dashboard's objects (pandas,
        # altair, streamlit) take seconds on a busy machine; exit handlers still run, only those collections are
        # skipped.
        gc.freeze()


if __name__ == "__main__":
    main()
