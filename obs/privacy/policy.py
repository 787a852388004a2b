"""Privacy policies as plain values: what is stored for each feature, read from and written to one file.

A policy says what happens to a call's content before it reaches the store: ``full`` keeps it, ``redact`` runs
it through the analyzer and replaces what it finds, ``metadata_only`` stores no content at all, ``sample`` keeps
content (optionally redacted) for a fraction of the calls and metadata for all of them. Pure code, no I/O but the
file reader and writer at the bottom.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from obs.errors import UserError

Mode = Literal["full", "redact", "metadata_only", "sample"]
Operator = Literal["replace", "mask", "hash"]

MODES: tuple[Mode, ...] = ("full", "redact", "metadata_only", "sample")
OPERATORS: tuple[Operator, ...] = ("replace", "mask", "hash")

#: What the pattern recognizers find without any model, and the NER entities a spaCy model adds.
PATTERN_ENTITIES = (
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL", "US_SSN", "CRYPTO",
    "US_BANK_NUMBER", "US_PASSPORT", "US_DRIVER_LICENSE", "UK_NHS", "MEDICAL_LICENSE",
)  # fmt: skip
NER_ENTITIES = ("PERSON", "LOCATION")
DEFAULT_ENTITIES = (
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL", "US_SSN", "CRYPTO",
    "PERSON", "LOCATION",
)  # fmt: skip
DEFAULT_THRESHOLD = 0.35
#: The entity a deny-listed term is found as (``<DENY_LIST>`` once replaced).
DENY_ENTITY = "DENY_LIST"
#: Prefix of a user id stored as a keyed hash, so a reader can tell it from a raw id.
USER_HASH_PREFIX = "uh_"


class PolicyError(UserError, ValueError):
    """A policy file or value obs cannot use (the message says which key and why)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """What is stored for the calls of one feature."""

    mode: Mode = "full"
    #: ``sample``: the fraction of calls whose content is kept (the rest: metadata only).
    sample_rate: float = 1.0
    #: ``sample``: redact the sampled content too.
    sample_redact: bool = False
    entities: tuple[str, ...] = DEFAULT_ENTITIES
    threshold: float = DEFAULT_THRESHOLD
    operator: Operator = "replace"
    #: Terms never redacted (the product's own words: "Flowdesk", "Settings"), matched whole and in any case; a
    #: finding made only of allowed words is dropped.
    allow: tuple[str, ...] = ()
    #: Terms always redacted (as DENY_LIST), whatever the analyzer thinks of them.
    deny: tuple[str, ...] = ()

    @property
    def redacts(self) -> bool:
        return self.mode == "redact" or (self.mode == "sample" and self.sample_redact)

    @property
    def label(self) -> str:
        """How the store records this policy on each call (``llm_calls.privacy_policy``)."""
        if self.mode == "sample":
            return f"sample:{self.sample_rate:g}" + ("+redact" if self.sample_redact else "")
        return self.mode

    def validate(self, where: str = "policy") -> Policy:
        if self.mode not in MODES:
            raise PolicyError(f"{where}: mode {self.mode!r} is not one of {', '.join(MODES)}")
        if not 0.0 <= self.sample_rate <= 1.0:
            raise PolicyError(f"{where}: sample_rate {self.sample_rate!r} must be between 0 and 1")
        if not 0.0 <= self.threshold <= 1.0:
            raise PolicyError(f"{where}: threshold {self.threshold!r} must be between 0 and 1")
        if self.operator not in OPERATORS:
            raise PolicyError(f"{where}: operator {self.operator!r} is not one of {', '.join(OPERATORS)}")
        if not self.entities:
            raise PolicyError(f"{where}: entities must name at least one entity")
        return self


@dataclass(frozen=True, slots=True)
class Policies:
    """The default policy, one per feature where it differs, and whether user ids are stored hashed."""

    default: Policy = field(default_factory=Policy)
    features: Mapping[str, Policy] = field(default_factory=dict)
    hash_user_ids: bool = False

    def for_feature(self, feature: str | None) -> Policy:
        return self.features.get(feature or "", self.default)

    @property
    def is_noop(self) -> bool:
        """True when every call is stored as captured (the writer then skips the privacy step entirely)."""
        return (
            not self.hash_user_ids
            and self.default.mode == "full"
            and all(p.mode == "full" for p in self.features.values())
        )

    @property
    def redacts(self) -> bool:
        return self.default.redacts or any(p.redacts for p in self.features.values())

    def with_feature(self, feature: str | None, policy: Policy) -> Policies:
        """A copy with ``policy`` for ``feature`` (the default when ``feature`` is None or empty)."""
        if not feature:
            return replace(self, default=policy)
        return replace(self, features={**self.features, feature: policy})


def sampled(call_id: str, rate: float) -> bool:
    """Whether a call's content is kept under ``sample``: a stable function of the call id (a retried or
    spooled record gets the same answer), uniform over ids."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(call_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rate


def hash_user_id(user_id: str, key: bytes) -> str:
    """A keyed hash (HMAC-SHA256) of a user id: the same id and key always give the same value, so per-user
    charts still work, and without the key the id cannot be recovered by hashing guesses."""
    if user_id.startswith(USER_HASH_PREFIX):
        return user_id  # already hashed (a replayed or re-processed record)
    return USER_HASH_PREFIX + hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:24]


# --- the policy file ---------------------------------------------------------------------------------


def parse(data: Mapping[str, Any], where: str = "policy file") -> Policies:
    """Policies from a mapping shaped like the file: ``hash_user_ids``, ``[default]``, ``[features.<name>]``."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"{where}: expected a table of settings")
    unknown = set(data) - {"hash_user_ids", "default", "features"}
    if unknown:
        raise PolicyError(f"{where}: unknown key {sorted(unknown)[0]!r} (expected hash_user_ids, default, features)")
    default = _policy(data.get("default") or {}, f"{where} [default]", Policy())
    features_data = data.get("features") or {}
    if not isinstance(features_data, Mapping):
        raise PolicyError(f"{where}: [features] must be a table of feature names")
    features = {
        str(name): _policy(value, f"{where} [features.{name}]", default) for name, value in features_data.items()
    }
    return Policies(default=default, features=features, hash_user_ids=bool(data.get("hash_user_ids", False)))


_FIELDS = ("mode", "sample_rate", "sample_redact", "entities", "threshold", "operator", "allow", "deny")


def _policy(data: Any, where: str, base: Policy) -> Policy:
    """A policy from its table; keys it leaves out come from ``base`` (a feature inherits the default)."""
    if not isinstance(data, Mapping):
        raise PolicyError(f'{where}: expected a table like {{ mode = "redact" }}')
    unknown = set(data) - set(_FIELDS)
    if unknown:
        raise PolicyError(f"{where}: unknown key {sorted(unknown)[0]!r} (expected {', '.join(_FIELDS)})")
    values: dict[str, Any] = {}
    try:
        if "mode" in data:
            values["mode"] = str(data["mode"])
        if "sample_rate" in data:
            values["sample_rate"] = float(data["sample_rate"])
        if "sample_redact" in data:
            values["sample_redact"] = bool(data["sample_redact"])
        if "entities" in data:
            entities = data["entities"]
            if isinstance(entities, str) or not isinstance(entities, list | tuple):
                raise PolicyError(f'{where}: entities must be a list like ["EMAIL_ADDRESS", "PERSON"]')
            values["entities"] = tuple(str(e).strip().upper() for e in entities)
        for key in ("allow", "deny"):
            if key in data:
                values[key] = _terms(data[key], f"{where}: {key}")
        if "threshold" in data:
            values["threshold"] = float(data["threshold"])
        if "operator" in data:
            values["operator"] = str(data["operator"])
    except (TypeError, ValueError) as exc:
        if isinstance(exc, PolicyError):
            raise
        raise PolicyError(f"{where}: {exc}") from None
    return replace(base, **values).validate(where)


def _terms(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise PolicyError(f'{where} must be a list of terms like ["Flowdesk", "Settings"]')
    return tuple(dict.fromkeys(term for item in value if (term := str(item).strip())))


def load(path: Path) -> Policies:
    """Read a policy file (TOML, or JSON when it ends in .json)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(
            f"policy file {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}"
        ) from None
    return parse(data, f"policy file {path}")


def dumps(policies: Policies) -> str:
    """The TOML text of a policy file (what the Redaction page saves)."""
    lines = ["# obs privacy policies: what is stored for each feature (see the README, 'Privacy and retention').",
             f"hash_user_ids = {'true' if policies.hash_user_ids else 'false'}", ""]  # fmt: skip
    sections = [("default", policies.default)]
    sections += [(f"features.{_toml_key(name)}", p) for name, p in sorted(policies.features.items())]
    for title, policy in sections:
        lines.append(f"[{title}]")
        lines.append(f'mode = "{policy.mode}"')
        if policy.mode == "sample":
            lines.append(f"sample_rate = {policy.sample_rate!r}")
            lines.append(f"sample_redact = {'true' if policy.sample_redact else 'false'}")
        lines.append("entities = [" + ", ".join(f'"{e}"' for e in policy.entities) + "]")
        lines.append(f"threshold = {policy.threshold!r}")
        lines.append(f'operator = "{policy.operator}"')
        for key in ("allow", "deny"):
            if terms := getattr(policy, key):
                lines.append(f"{key} = [" + ", ".join(json.dumps(t, ensure_ascii=False) for t in terms) + "]")
        lines.append("")
    return "\n".join(lines)


def save(policies: Policies, path: Path) -> None:
    """Write the policy file atomically (a writer reading it mid-save sees the old or the new one); JSON when
    the file name ends in .json, else TOML."""
    text = dumps(policies)
    parse(tomllib.loads(text))  # never write a file the reader would refuse
    if path.suffix == ".json":
        text = json.dumps(tomllib.loads(text), indent=2) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _toml_key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)
