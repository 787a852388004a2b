"""Prices: genai-prices offline, cached and reasoning tokens billed as OpenAI bills them, overrides win."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from obs.pricing.prices import ModelPrice, PriceFileError, Pricer, Usage, default_pricer, load_overrides

GPT5_MINI = Usage(prompt_tokens=1234, completion_tokens=156)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test: prices must come from the bundled snapshot."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_gpt5_mini_costs_what_openai_bills(no_network: None) -> None:
    assert Pricer().cost("gpt-5-mini", GPT5_MINI) == Decimal("0.0006205")


def test_cached_input_tokens_are_billed_at_the_cache_read_price(no_network: None) -> None:
    cached = Usage(prompt_tokens=1234, completion_tokens=156, cached_tokens=1000)
    cost = Pricer().cost("gpt-5-mini", cached)
    # 234 fresh input at $0.25/M, 1,000 cached at $0.025/M, 156 output at $2/M.
    assert (
        cost
        == Decimal(234) * Decimal("0.25") / 10**6
        + Decimal(1000) * Decimal("0.025") / 10**6
        + Decimal(156) * Decimal(2) / 10**6
    )
    assert cost == Decimal("0.0003955")


def test_reasoning_tokens_are_part_of_output_and_not_billed_twice(no_network: None) -> None:
    with_reasoning = Usage(prompt_tokens=1234, completion_tokens=156, reasoning_tokens=100)
    assert Pricer().cost("gpt-5-mini", with_reasoning) == Decimal("0.0006205")


def test_dated_response_model_is_priced_like_its_family(no_network: None) -> None:
    assert Pricer().cost("gpt-5-mini", GPT5_MINI, response_model="gpt-5-mini-2025-08-07") == Decimal("0.0006205")


def test_unknown_model_is_unpriced_not_free(no_network: None) -> None:
    assert Pricer().cost("my-private-finetune-v7", GPT5_MINI) is None
    assert Pricer().cost("my-private-finetune-v7", GPT5_MINI, provider="openai") is None


def test_unknown_usage_is_unpriced_not_free() -> None:
    assert Pricer().cost("gpt-5-mini", None) is None
    assert Pricer().cost(None, GPT5_MINI) is None


def test_unknown_provider_name_does_not_hide_a_known_model(no_network: None) -> None:
    assert Pricer().cost("gpt-5-mini", GPT5_MINI, provider="my-gateway") == Decimal("0.0006205")


def test_price_at_request_time_is_used(no_network: None) -> None:
    then = datetime(2025, 9, 1, tzinfo=UTC)
    assert Pricer().cost("gpt-5-mini", GPT5_MINI, ts=then) == Decimal("0.0006205")


def test_override_file_wins_over_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[models."gpt-5-mini"]\ninput = 1.0\ncached_input = 0.5\noutput = 4.0\n'
        '[models."my-finetune"]\ninput = 0.3\noutput = 1.2\n'
    )
    monkeypatch.setenv("OBS_PRICES_FILE", str(prices))
    pricer = default_pricer()
    cached = Usage(prompt_tokens=1234, completion_tokens=156, cached_tokens=1000)
    assert pricer.cost("gpt-5-mini", cached) == (Decimal(234) * 1 + Decimal(1000) * Decimal("0.5") + 156 * 4) / 10**6
    assert pricer.cost("My-Finetune", GPT5_MINI) == (Decimal(1234) * Decimal("0.3") + 156 * Decimal("1.2")) / 10**6
    # An override on the requested model also covers the dated snapshot the provider served.
    assert pricer.cost("gpt-5-mini", GPT5_MINI, response_model="gpt-5-mini-2025-08-07") == Decimal("0.001858")


def test_override_without_cached_price_bills_cached_tokens_as_input() -> None:
    price = ModelPrice(input=Decimal(1), output=Decimal(2))
    assert price.cost(Usage(prompt_tokens=1000, completion_tokens=0, cached_tokens=400)) == Decimal("0.001")


def test_json_override_file_is_accepted(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"models": {"m": {"input": 2, "output": 8}}}')
    assert load_overrides(prices) == {"m": ModelPrice(input=Decimal(2), output=Decimal(8))}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[models."m"]\ninput = 1.0\n', "missing 'output'"),
        ('[models."m"]\ninput = -1\noutput = 1\n', "is not a price"),
        ('[models."m"]\ninput = "cheap"\noutput = 1\n', "is not a price"),
        ('[models."m"]\ninput = 1\noutput = 1\ncache = 1\n', "unknown keys"),
        ("models = [1, 2]\n", "expected a table of models"),
        ("[models\n", "not valid"),
    ],
)
def test_bad_override_file_gets_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(text)
    with pytest.raises(PriceFileError, match=message):
        load_overrides(prices)


def test_missing_override_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match=r"OBS_PRICES_FILE=.*cannot read"):
        load_overrides(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "model", ["gpt-5-mini", "gpt-5", "gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "o4-mini", "text-embedding-3-small"]
)
@pytest.mark.parametrize(
    "usage",
    [Usage(1234, 156), Usage(1234, 156, cached_tokens=1000, reasoning_tokens=64), Usage(250_000, 4000, 100_000)],
)
def test_fast_path_agrees_with_genai_prices_own_calculation(model: str, usage: Usage) -> None:
    import genai_prices

    expected = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=usage.prompt_tokens,
            cache_read_tokens=usage.cached_tokens,
            output_tokens=usage.completion_tokens,
        ),
        model,
        provider_id="openai",
    ).total_price
    assert Pricer().cost(model, usage, provider="openai") == expected


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "claude-opus-4-1", "claude-sonnet-4-5", "claude-sonnet-4"])
@pytest.mark.parametrize(
    "usage",
    [
        Usage(1234, 156),
        Usage(9000, 300, cached_tokens=6000, reasoning_tokens=120, cache_write_tokens=2000),
        Usage(250_000, 4000, cached_tokens=100_000, cache_write_tokens=50_000),
    ],
)
def test_anthropic_cache_writes_and_reads_are_priced_as_genai_prices_prices_them(model: str, usage: Usage) -> None:
    import genai_prices

    expected = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=usage.prompt_tokens,
            cache_read_tokens=usage.cached_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            output_tokens=usage.completion_tokens,
        ),
        model,
        provider_id="anthropic",
    ).total_price
    assert Pricer().cost(model, usage, provider="anthropic") == expected


def test_a_cache_write_costs_more_than_an_uncached_token_and_a_read_less() -> None:
    # claude-haiku-4-5: $1 input, $1.25 cache write, $0.10 cache read, $5 output per million tokens.
    plain = Pricer().cost("claude-haiku-4-5", Usage(1_000_000, 0), provider="anthropic")
    written = Pricer().cost("claude-haiku-4-5", Usage(1_000_000, 0, cache_write_tokens=1_000_000), provider="anthropic")
    read = Pricer().cost("claude-haiku-4-5", Usage(1_000_000, 0, cached_tokens=1_000_000), provider="anthropic")
    assert (plain, written, read) == (Decimal("1"), Decimal("1.25"), Decimal("0.1"))


def test_an_override_can_price_cache_writes(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text('[models."my-claude"]\ninput = 2.0\noutput = 10.0\ncached_input = 0.2\ncache_write = 2.5\n')
    pricer = Pricer(load_overrides(path))
    cost = pricer.cost("my-claude", Usage(1_000_000, 0, cached_tokens=200_000, cache_write_tokens=400_000))
    assert cost == Decimal("0.4") * 2 + Decimal("0.2") * Decimal("0.2") + Decimal("0.4") * Decimal("2.5")
