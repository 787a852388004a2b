"""Webhook bodies (Slack-compatible or generic JSON) and delivery with retries. Bodies are pure functions."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from obs import config

Format = Literal["slack", "json"]


@dataclass(frozen=True)
class Webhook:
    """A configured webhook. ``target`` names it without its secret path (what the store and the page show)."""

    url: str
    format: Format

    @classmethod
    def parse(cls, spec: str) -> Webhook:
        """``slack:https://...``, ``json:https://...`` or a bare URL (Slack when the host is hooks.slack.com)."""
        kind, _, rest = spec.partition(":")
        if kind in ("slack", "json") and rest.startswith("http"):
            url, fmt = rest, kind
        else:
            url, fmt = spec, "slack" if urlsplit(spec).hostname == "hooks.slack.com" else "json"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a webhook URL: {spec!r} (expected http(s)://host/path, optionally slack: or json:)")
        return cls(url, fmt)  # type: ignore[arg-type]

    @property
    def target(self) -> str:
        parts = urlsplit(self.url)
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:10]
        return f"{self.format}:{parts.scheme}://{parts.netloc}/…#{digest}"


def configured() -> list[Webhook]:
    """The webhooks of OBS_ALERT_WEBHOOKS (a malformed entry raises ValueError naming it)."""
    return [Webhook.parse(spec) for spec in config.alert_webhooks()]


def body(webhook_format: Format, change: str, event: Mapping[str, Any], link: str) -> dict[str, Any]:
    """The JSON body for one opened or resolved alert."""
    icon = "🔴" if change == "opened" else "✅"
    headline = f"{icon} obs alert {change}: {event['rule']}"
    if webhook_format == "slack":
        text = f"*{headline}*\n{event['message']}\n<{link}|Open the calls behind it>"
        return {
            "text": f"{headline}: {event['message']}",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }
    return {
        "change": change,
        "rule": event["rule"],
        "kind": event["kind"],
        "subject": event["subject"],
        "message": event["message"],
        "value": event["value"],
        "baseline": event["baseline"],
        "volume": event["volume"],
        "opened_at": event["opened_at"],
        "resolved_at": event.get("resolved_at"),
        "link": link,
    }


def post(url: str, payload: Mapping[str, Any], timeout: float = config.ALERT_DELIVERY_TIMEOUT_S) -> None:
    """POST JSON; raises OSError (urllib's errors included) unless the receiver answers 2xx."""
    request = urllib.request.Request(
        url, data=json.dumps(payload, default=str).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def deliver(
    url: str,
    payload: Mapping[str, Any],
    attempts: int = config.ALERT_DELIVERY_ATTEMPTS,
    backoff_s: float = config.ALERT_DELIVERY_BACKOFF_S,
) -> tuple[str | None, int]:
    """Try up to ``attempts`` times with a doubling wait: (None, tries) when delivered, else (last error, tries)."""
    error = "not attempted"
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff_s * 2 ** (attempt - 1))
        try:
            post(url, payload)
            return None, attempt + 1
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code} {exc.reason}"
        except (OSError, ValueError) as exc:
            error = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
    return error, attempts
