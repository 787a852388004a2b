"""What every command group shares: the store option, the error handling, how times are printed."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any, TypeVar

import click
import sqlalchemy as sa

from obs import config
from obs.errors import UserError
from obs.store import db
from obs.store.schema import as_utc

F = TypeVar("F", bound=Callable[..., Any])

FLAG_SOURCE = "from --database-url"


def _or_given_before_the_command(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    # `obs --database-url URL alerts check`: the URL is on the root context; the command's own flag wins.
    return value if value is not None else ctx.find_root().params.get("database_url")


database_url_option = click.option(
    "--database-url",
    metavar="URL",
    default=None,
    callback=_or_given_before_the_command,
    help=f"Store URL; defaults to `obs --database-url URL`, else ${config.ENV_DATABASE_URL}, "
    f"else {config.DEFAULT_DATABASE_URL}.",
)


def friendly_errors(func: F) -> F:
    """Problems a person can fix are one line on stderr and exit status 1, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = kwargs.get("database_url")
        source = FLAG_SOURCE if given else None  # else the environment tells: $OBS_DATABASE_URL or the default
        try:
            return func(*args, **kwargs)
        except db.StoreUrlError as exc:
            raise click.ClickException(exc.describe(source)) from None
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
        except sa.exc.SQLAlchemyError as exc:
            url = given or config.database_url()
            raise click.ClickException(db.describe_connection_error(exc, url, source)) from None

    return wrapper  # type: ignore[return-value]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (what may be served without a login or a token)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def when(value: Any) -> str:
    """A stored time as the CLI prints it (UTC, to the second); "-" for none."""
    if value is None:
        return "-"
    return f"{as_utc(value):%Y-%m-%d %H:%M:%S} UTC"
