"""What a call cost, from its tokens: user overrides first, then genai-prices' bundled (offline) snapshot.

A call whose model cannot be priced, or whose token counts are unknown, costs ``None``, never a fake $0. It is
*unpriced* when it used the model; a call that failed before any usage (a 429, say) has no cost because it had
no usage, and is not unpriced (``obs.records.cost_state``; sql/_unpriced.sql is the same test). Token counts
follow OpenAI's billing semantics: ``prompt_tokens`` includes the ``cached_tokens`` read from the prompt cache and
the ``cache_write_tokens`` written to it (Anthropic bills writes at their own rate), ``completion_tokens``
includes the ``reasoning_tokens``.
"""

from __future__ import annotations

import functools
import json
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import genai_prices
from genai_prices import data_snapshot

from obs import config
from obs.errors import UserError

MILLION = Decimal(1_000_000)

#: What a stored call's cost is: known, unknown although the model was used, or none because nothing was used.


class PriceFileError(UserError, ValueError):
    """The price override file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call, as the provider reported them."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A user's price for a model, in dollars per million tokens (cache reads and writes at the input rate
    unless they have their own)."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None

    def cost(self, usage: Usage) -> Decimal:
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        written = min(usage.cache_write_tokens, usage.prompt_tokens - cached)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        write_rate = self.input if self.cache_write is None else self.cache_write
        uncached = usage.prompt_tokens - cached - written
        return (
            uncached * self.input + cached * cached_rate + written * write_rate + usage.completion_tokens * self.output
        ) / MILLION


@dataclass(frozen=True)
class Pricer:
    """Prices calls: overrides (by exact model name, case-insensitive) win over genai-prices."""

    overrides: Mapping[str, ModelPrice] = field(default_factory=dict)

    def cost(
        self,
        model: str | None,
        usage: Usage | None,
        *,
        response_model: str | None = None,
        provider: str | None = None,
        ts: datetime | None = None,
    ) -> Decimal | None:
        """Dollars for this usage, or None when it cannot be priced.

        The model the provider says it served (``response_model``, often a dated snapshot) is tried before
        the model that was asked for; an override for either wins over the library.
        """
        names = [name for name in dict.fromkeys((response_model, model)) if name]
        if not names or usage is None:
            return None
        for name in names:
            override = self.overrides.get(name.lower())
            if override is not None:
                return override.cost(usage)
        for name in names:
            cost = library_cost(name, usage, provider=provider, ts=ts)
            if cost is not None:
                return cost
        return None


def library_cost(
    model: str, usage: Usage, *, provider: str | None = None, ts: datetime | None = None
) -> Decimal | None:
    """genai-prices' price for this call at time ``ts``, None for a model it does not know."""
    hour = (ts or datetime.now(UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rates = _flat_rates(model, provider, hour)
    if rates is not None:
        return rates.cost(usage)
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    gp_usage = genai_prices.Usage(
        input_tokens=usage.prompt_tokens,
        cache_read_tokens=cached,
        cache_write_tokens=min(usage.cache_write_tokens, usage.prompt_tokens - cached),
        output_tokens=usage.completion_tokens,
    )
    found = _find(model, provider)
    if found is None:
        return None
    gp_provider, gp_model = found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total: Decimal = gp_model.calc_price(gp_usage, gp_provider, genai_request_timestamp=ts).total_price
    return total


@functools.lru_cache(maxsize=1024)
def _find(model: str, provider: str | None) -> tuple[Any, Any] | None:
    """genai-prices' provider and model for a name; a provider it does not know must not hide the model."""
    snapshot = data_snapshot.get_snapshot()
    for provider_id in dict.fromkeys((provider, None)):
        try:
            return snapshot.find_provider_model(model, None, provider_id, None)
        except LookupError:
            continue
    return None


@functools.lru_cache(maxsize=4096)
def _flat_rates(model: str, provider: str | None, hour: datetime) -> ModelPrice | None:
    """The model's token prices at that hour when they are flat per-token rates (the common case; a 1-hour cache
    write rate does not count: obs records cache writes as one count, priced at the 5-minute rate).

    genai-prices' general calculation costs ~45 us a call; flat input / cache-read / output rates give the same
    number with one multiplication each (a test checks they agree). Tiered or other prices return None and go
    through the library.
    """
    found = _find(model, provider)
    if found is None:
        return None
    prices = found[1].get_prices(hour)
    rates = {key: getattr(prices, key, None) for key in _FLAT_KEYS}
    others = {k: v for k, v in prices.__dict__.items() if v is not None and k not in _FLAT_KEYS}
    if any(k in _TOKEN_KEYS for k in others) or not all(isinstance(v, Decimal | None) for v in rates.values()):
        return None
    if rates["input_mtok"] is None and rates["output_mtok"] is None:
        return None
    return ModelPrice(
        input=rates["input_mtok"] or Decimal(0),
        output=rates["output_mtok"] or Decimal(0),
        cached_input=rates["cache_read_mtok"],
        cache_write=rates["cache_write_mtok"],
    )


_FLAT_KEYS = ("input_mtok", "cache_read_mtok", "cache_write_mtok", "output_mtok")
#: Price keys that would apply to a text call's tokens; if a model has any of these, the library prices it.
_TOKEN_KEYS = frozenset({"input_audio_mtok", "output_audio_mtok", "requests_kcount"})


def load_overrides(path: Path) -> dict[str, ModelPrice]:
    """Read a TOML or JSON price file: ``{model: {input, output, cached_input?, cache_write?}}`` in $ per million
    tokens."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceFileError(f"{config.ENV_PRICES_FILE}={path}: cannot read ({exc.strerror})") from None
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PriceFileError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from None
    models = data.get("models", data) if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise PriceFileError(f'{path}: expected a table of models, e.g. [models."my-model"] input = 0.3')
    return {str(name).lower(): _model_price(path, str(name), entry) for name, entry in models.items()}


def _model_price(path: Path, name: str, entry: Any) -> ModelPrice:
    if not isinstance(entry, dict):
        raise PriceFileError(f"{path}: model {name!r} needs input and output prices")
    unknown = set(entry) - {"input", "output", "cached_input", "cache_write"}
    if unknown:
        raise PriceFileError(f"{path}: model {name!r} has unknown keys {sorted(unknown)}")
    for key in ("input", "output"):
        if key not in entry:
            raise PriceFileError(f"{path}: model {name!r} is missing {key!r} ($ per million tokens)")
    values: dict[str, Decimal] = {}
    for key, raw in entry.items():
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            value = Decimal(-1)
        if isinstance(raw, bool) or not value.is_finite() or value < 0:
            raise PriceFileError(f"{path}: model {name!r} {key} = {raw!r} is not a price in $ per million")
        values[key] = value
    return ModelPrice(**values)


def default_pricer() -> Pricer:
    """A pricer with the overrides of OBS_PRICES_FILE, if set."""
    path = config.prices_file()
    return Pricer(load_overrides(path) if path else {})
