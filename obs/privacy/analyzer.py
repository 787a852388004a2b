"""Presidio, offline: an analyzer that never downloads anything at run time.

Presidio's default engine wants spaCy's ``en_core_web_lg`` and downloads it when missing; its email and URL
recognizers call tldextract, which fetches the public suffix list on first use. Here the engine is built
explicitly: the spaCy model named by OBS_SPACY_MODEL (default: the small English model obs installs) when it is
installed, else a blank tokenizer with pattern recognizers only; tldextract uses the snapshot it ships with.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from obs import config
from obs.privacy.policy import DENY_ENTITY, Policy
from obs.privacy.redact import Finding

log = logging.getLogger("obs")

#: Pipeline parts obs does without: only the tokenizer and the entity recognizer (which has its own embedding layer
#: in the en_core_web models) are needed; leaving the rest out makes redaction ~2.5x faster with the same entities.
_UNUSED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

#: spaCy labels counted as the entities obs knows (the rest of the model's labels are ignored).
_NER_MAPPING = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION"}
_NER_IGNORED = ["CARDINAL", "DATE", "EVENT", "LANGUAGE", "LAW", "MONEY", "NORP", "ORDINAL", "ORG", "PERCENT", "PRODUCT",
                "QUANTITY", "TIME", "WORK_OF_ART", "MISC"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class AnalyzerInfo:
    """Which model the analyzer runs with (shown on the Redaction page and by `obs privacy check`)."""

    model: str | None
    entities: tuple[str, ...]
    note: str


def offline_tldextract() -> None:
    """Make tldextract use its bundled public suffix list snapshot: no HTTP fetch, no cache files."""
    import tldextract.tldextract as tld

    if getattr(tld.TLD_EXTRACTOR, "_obs_offline", False):
        return
    extractor = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    extractor._obs_offline = True  # type: ignore[attr-defined]
    tld.TLD_EXTRACTOR = extractor


def installed_model(name: str | None = None) -> str | None:
    """The spaCy model to use: ``name`` (or OBS_SPACY_MODEL, or the first default) if installed, else None."""
    candidates = (name,) if name else config.spacy_models()
    for candidate in candidates:
        if candidate and importlib.util.find_spec(candidate) is not None:
            return candidate
    return None


class Analyzer:
    """Finds PII in batches of texts. Thread-safe; heavy to build (a spaCy model), so build it once."""

    def __init__(self, model: str | None = None) -> None:
        offline_tldextract()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration

        wanted = model or config.spacy_model_env()
        self.model = installed_model(wanted)
        if self.model is not None:
            nlp = importlib.import_module(self.model).load(exclude=list(_UNUSED_PIPES))
            note = f"spaCy model {self.model}: pattern recognizers and names/places (PERSON, LOCATION)"
        else:
            import spacy

            nlp = spacy.blank("en")
            note = (
                f"spaCy model {wanted!r} is not installed: pattern recognizers only (no PERSON, LOCATION)"
                if wanted
                else "no spaCy model installed: pattern recognizers only (no PERSON, LOCATION)"
            )
            log.warning("obs: %s", note)
        engine = _Engine(
            models=[{"lang_code": "en", "model_name": self.model or "blank"}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping=_NER_MAPPING, labels_to_ignore=_NER_IGNORED
            ),
        )
        # Set the pipeline ourselves: SpacyNlpEngine.load() would try to download a model it does not find.
        engine.nlp = {"en": nlp}
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
        self._engine = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
        self._nlp = engine
        self._lock = threading.Lock()
        supported = set(self._engine.get_supported_entities("en"))
        if self.model is None:
            supported -= {"PERSON", "LOCATION", "NRP", "DATE_TIME"}
        self.info = AnalyzerInfo(self.model, tuple(sorted(supported)), note)

    def find(self, texts: Sequence[str], policy: Policy) -> list[list[Finding]]:
        """Findings per text for the policy's entities at or above its threshold (texts go through spaCy in
        batches with ``nlp.pipe``, then through the pattern recognizers)."""
        if not texts:
            return []
        entities = [e for e in policy.entities if e in self.info.entities]
        deny = _deny_recognizers(policy.deny)
        if not entities and not deny:
            return [[] for _ in texts]
        entities += [DENY_ENTITY] if deny else []
        allow = _allow_pattern(policy.allow)
        out: list[list[Finding]] = []
        with self._lock:  # spaCy pipelines are not safe to share between threads
            artifacts = self._nlp.process_batch(list(texts), "en", batch_size=config.REDACTION_NLP_BATCH)
            for text, (_, nlp_artifacts) in zip(texts, artifacts, strict=True):
                results: list[Any] = self._engine.analyze(
                    text, language="en", entities=entities, score_threshold=policy.threshold,
                    nlp_artifacts=nlp_artifacts, ad_hoc_recognizers=deny or None,
                    allow_list=allow, allow_list_match="regex", regex_flags=re.IGNORECASE,
                )  # fmt: skip
                out.append([Finding(r.entity_type, r.start, r.end, float(r.score)) for r in results])
        return out


@functools.lru_cache(maxsize=64)
def _deny_recognizers(terms: tuple[str, ...]) -> list[Any]:
    """Presidio's deny-list recognizer for a policy's always-redacted terms (none when it has none)."""
    if not terms:
        return []
    from presidio_analyzer import PatternRecognizer

    return [PatternRecognizer(supported_entity=DENY_ENTITY, deny_list=list(terms), name="obs deny list")]


def _allow_pattern(terms: tuple[str, ...]) -> list[str] | None:
    """Presidio's allow list as one regex: a finding made only of allowed terms (any case) is dropped, so
    "Flowdesk Settings" goes when both are allowed and "Maria Flowdesk" stays."""
    if not terms:
        return None
    words = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return [rf"^\W*(?:(?:{words})(?:\W+|$))+$"]


def _engine_class() -> type:
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

    class Engine(SpacyNlpEngine):
        """spaCy without a lemmatizer: context words are matched on the lower-cased token instead."""

        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
            artifacts = super()._doc_to_nlp_artifact(doc, language)
            artifacts.lemmas = [token.lemma_ or token.lower_ for token in doc]
            return artifacts

    return Engine


def _Engine(**kwargs: Any) -> Any:
    return _engine_class()(**kwargs)


@functools.cache
def default_analyzer() -> Analyzer:
    """The process's analyzer (built on first use, in whichever thread needs it first)."""
    return Analyzer()
