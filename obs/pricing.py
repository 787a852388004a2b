"""What a call cost, from its tokens: user overrides first, then genai-prices' bundled (offline) snapshot.

A call whose model cannot be priced, or whose token counts are unknown, costs ``None`` ("unpriced"),
never a fake $0. Token counts follow OpenAI's billing semantics: ``prompt_tokens`` includes the
``cached_tokens`` read from the prompt cache, ``completion_tokens`` includes the ``reasoning_tokens``.
"""

from __future__ import annotations

import json
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import genai_prices

from obs import config

MILLION = Decimal(1_000_000)


class PriceFileError(ValueError):
    """The price override file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call, as the provider reported them."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A user's price for a model, in dollars per million tokens."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None

    def cost(self, usage: Usage) -> Decimal:
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        return (
            (usage.prompt_tokens - cached) * self.input + cached * cached_rate + usage.completion_tokens * self.output
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
    gp_usage = genai_prices.Usage(
        input_tokens=usage.prompt_tokens,
        cache_read_tokens=min(usage.cached_tokens, usage.prompt_tokens),
        output_tokens=usage.completion_tokens,
    )
    # A provider name genai-prices does not know (a custom gateway, say) should not hide the model.
    for provider_id in dict.fromkeys((provider, None)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = genai_prices.calc_price(gp_usage, model, provider_id=provider_id, genai_request_timestamp=ts)
        except LookupError:
            continue
        return result.total_price
    return None


def load_overrides(path: Path) -> dict[str, ModelPrice]:
    """Read a TOML or JSON price file: ``{model: {input, output, cached_input?}}`` in $ per million tokens."""
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
    unknown = set(entry) - {"input", "output", "cached_input"}
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
