"""Endpoints a call can be replayed against: a base URL, the API it speaks (OpenAI's or Anthropic's) and the *name*
of the key's variable.

``openai``, ``anthropic`` and ``demo`` (which speaks both) are built in; ``OBS_PROVIDERS_FILE`` adds or overrides
others. Keys are read from the environment when a client is made and go nowhere else: not to the store, the logs,
the page or a file.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import openai

from obs import config
from obs.errors import UserError

#: Keys a provider entry may have (``api_key`` is refused on purpose: the file names a variable instead).
_ENTRY_KEYS = frozenset({"base_url", "api_key_env", "max_retries", "api"})
#: The wire APIs a provider can speak: OpenAI's (chat completions, responses) or Anthropic's Messages API.
Api = Literal["openai", "anthropic"]
APIS: tuple[Api, ...] = ("openai", "anthropic")
#: Sent to providers that need no key (the demo, a local server), because the openai client wants one.
NO_KEY = "obs-replay-no-key"


def _sdk_errors(name: str) -> tuple[type[Exception], ...]:
    """The openai SDK's exception ``name`` and, when it is installed, the anthropic SDK's."""
    try:
        import anthropic
    except ImportError:
        return (getattr(openai, name),)
    return getattr(openai, name), getattr(anthropic, name)


#: What a client of either API raises when the endpoint cannot be reached, and for any API error.
CONNECTION_ERRORS = _sdk_errors("APIConnectionError")
API_ERRORS = _sdk_errors("APIError")


class ProviderError(UserError):
    """A provider cannot be used as configured; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Provider:
    """One endpoint: ``base_url`` None means the in-process demo provider; ``api_key_env`` None means no key;
    ``api`` None means it speaks both APIs (the demo provider)."""

    name: str
    base_url: str | None
    api_key_env: str | None = None
    max_retries: int = config.REPLAY_MAX_RETRIES
    api: Api | None = "openai"

    def speaks(self, api: Api) -> bool:
        return self.api is None or self.api == api

    def api_key(self) -> str:
        """The key from the environment; raises ProviderError naming the variable when it is unset."""
        if self.api_key_env is None:
            return NO_KEY
        key = os.environ.get(self.api_key_env)
        if not key:
            raise ProviderError(
                f"provider {self.name!r} needs an API key: set ${self.api_key_env}, or replay with another "
                f"provider (e.g. --provider {config.DEMO_PROVIDER})"
            )
        return key

    def url(self) -> str:
        """Where requests go (starts the in-process demo provider for ``demo``)."""
        return self.base_url or demo_url()

    def client(self) -> openai.OpenAI:
        """A plain openai client for this endpoint (the caller wraps it to record its calls)."""
        return openai.OpenAI(
            base_url=self.url(),
            api_key=self.api_key(),
            max_retries=self.max_retries,
            timeout=config.REPLAY_TIMEOUT_S,
        )

    def anthropic_client(self) -> Any:
        """A plain anthropic client for this endpoint (its base URL without the ``/v1`` the SDK adds itself)."""
        try:
            import anthropic
        except ImportError:
            raise ProviderError(
                f"provider {self.name!r} speaks Anthropic's API, which needs the anthropic SDK: pip install anthropic"
            ) from None
        return anthropic.Anthropic(
            base_url=self.url().removesuffix("/v1"),
            api_key=self.api_key(),
            max_retries=self.max_retries,
            timeout=config.REPLAY_TIMEOUT_S,
        )

    def check(self) -> None:
        """Fail early, before any call is made or recorded, when the endpoint is unreachable or refuses the key
        (``GET /models``; a server without it is reachable, which is all this asks)."""
        if self.api == "anthropic":
            import anthropic

            sdk: Any = anthropic
            client = self.anthropic_client()
        else:
            sdk, client = openai, self.client()
        try:
            client.with_options(timeout=config.REPLAY_CHECK_TIMEOUT_S, max_retries=0).models.list()
        except sdk.APIConnectionError as exc:
            raise ProviderError(
                f"cannot reach provider {self.name!r} at {self.url()} ({type(exc).__name__}): check the base_url "
                f"in {config.ENV_PROVIDERS_FILE} or your network"
            ) from None
        except (sdk.AuthenticationError, sdk.PermissionDeniedError) as exc:
            raise ProviderError(
                f"provider {self.name!r} refused the key in ${self.api_key_env} (HTTP {exc.status_code}): "
                "set a valid key"
            ) from None
        except sdk.APIStatusError:
            pass  # reachable and not an auth problem (some compatible servers have no /models)


@functools.cache
def _messages_create_parameters() -> frozenset[str]:
    """The keyword arguments the installed anthropic SDK's ``messages.create`` names (read once)."""
    import anthropic

    return frozenset(inspect.signature(anthropic.resources.Messages.create).parameters)


def messages_arguments(request: Mapping[str, Any]) -> dict[str, Any]:
    """A Messages API request as ``messages.create`` takes it: what its signature does not name (temperature, in
    newer SDKs) goes in ``extra_body``, as the original app sent it."""
    named = _messages_create_parameters()
    arguments = {k: v for k, v in request.items() if k in named}
    extra = {k: v for k, v in request.items() if k not in named}
    return {**arguments, "extra_body": {**extra, **(arguments.pop("extra_body", None) or {})}} if extra else arguments


def builtin() -> dict[str, Provider]:
    """The providers that always exist: OpenAI (the default), Anthropic and the demo provider (both APIs)."""
    return {
        "openai": Provider("openai", config.OPENAI_BASE_URL, config.OPENAI_KEY_ENV),
        "anthropic": Provider("anthropic", config.ANTHROPIC_BASE_URL, config.ANTHROPIC_KEY_ENV, api="anthropic"),
        config.DEMO_PROVIDER: Provider(config.DEMO_PROVIDER, None, None, max_retries=0, api=None),
    }


def load_file(path: Path) -> dict[str, Provider]:
    """Providers from a TOML file: ``[providers.NAME]`` with ``base_url`` and optionally ``api_key_env``,
    ``max_retries`` and ``api`` (``"openai"``, the default, or ``"anthropic"``)."""
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProviderError(f"{config.ENV_PROVIDERS_FILE}={path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProviderError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("providers")
    if not isinstance(table, Mapping):
        raise ProviderError(f'{path}: expected [providers.NAME] tables with base_url = "..." and api_key_env')
    found: dict[str, Provider] = {}
    for name, entry in table.items():
        if not isinstance(entry, Mapping):
            raise ProviderError(f"{path}: [providers.{name}] must be a table")
        if "api_key" in entry:
            raise ProviderError(
                f"{path}: [providers.{name}] holds a key; put it in an environment variable and name that "
                'variable instead: api_key_env = "MY_KEY_VARIABLE"'
            )
        unknown = set(entry) - _ENTRY_KEYS
        if unknown:
            raise ProviderError(f"{path}: [providers.{name}] has unknown keys {sorted(unknown)}")
        base_url = entry.get("base_url")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ProviderError(f'{path}: [providers.{name}] needs base_url = "http(s)://..."')
        key_env = entry.get("api_key_env")
        if key_env is not None and not (isinstance(key_env, str) and key_env):
            raise ProviderError(f"{path}: [providers.{name}] api_key_env must name an environment variable")
        retries = entry.get("max_retries", config.REPLAY_MAX_RETRIES)
        if not isinstance(retries, int) or retries < 0:
            raise ProviderError(f"{path}: [providers.{name}] max_retries must be a whole number >= 0")
        api = entry.get("api", "openai")
        if api not in APIS:
            raise ProviderError(f'{path}: [providers.{name}] api must be "openai" or "anthropic", not {api!r}')
        found[str(name)] = Provider(str(name), base_url.rstrip("/"), key_env, retries, api)
    return found


def available() -> dict[str, Provider]:
    """Built-in providers, overridden and extended by OBS_PROVIDERS_FILE."""
    providers = builtin()
    path = config.providers_file()
    if path is not None:
        providers |= load_file(path)
    return providers


def get(name: str) -> Provider:
    """The provider called ``name``; ProviderError listing the known ones otherwise."""
    providers = available()
    if name not in providers:
        known = ", ".join(sorted(providers))
        raise ProviderError(f"unknown provider {name!r} (known: {known}); add it to {config.ENV_PROVIDERS_FILE}")
    return providers[name]


# --- the in-process demo provider -------------------------------------------------------------------------

_demo_lock = threading.Lock()
_demo: Any = None


def demo_url() -> str:
    """The base URL of this process's demo provider, started on first use (loopback, no key, no internet)."""
    global _demo
    with _demo_lock:
        if _demo is None:
            from obs.demo.provider import DemoProvider

            _demo = DemoProvider(speed=config.DEMO_REPLAY_SPEED).start()
        return str(_demo.url)
