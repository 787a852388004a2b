"""This environment tests obs as users install it beside openai 2.x: the wheel, not the checkout."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import openai
from openai2_rig import CHECKOUT, Rig

import obs


def test_obs_is_the_installed_wheel_not_the_checkout() -> None:
    where = Path(obs.__file__).resolve()
    assert where.is_relative_to(Path(sys.prefix).resolve()) and "site-packages" in where.parts, where
    assert not where.is_relative_to(CHECKOUT / "obs"), where


def test_the_sdk_is_openai_2_on_httpx(rig: Rig) -> None:
    client, _ = rig.clients()
    assert openai.__version__.startswith("2.")
    assert isinstance(client._client, httpx.Client)  # the fake's transport is httpx's, not httpx2's
    with obs.trace("openai 2") as t:
        answer = client.chat.completions.create(model="gpt-5-mini", messages=[{"role": "user", "content": "Hi"}])
    (call,) = rig.calls(t.trace_id)
    assert call.content is not None and call.content.output_text == answer.choices[0].message.content
    assert call.cost_usd is not None and call.prompt_tokens == answer.usage.prompt_tokens  # type: ignore[union-attr]
