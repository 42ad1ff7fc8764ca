"""Implementation of :mod:`omnichannel.topics` (documented there)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from omnichannel._errors import InvalidValueError
from omnichannel._model import Interaction, TextPart, clean_topics

__all__ = ["Tagger", "TopicRule", "TopicRules", "fold_text", "tag"]

Tagger = Callable[[Interaction], Iterable[str]]
"""Anything that returns topic labels for an interaction: rules, a model, a lookup."""


@lru_cache(maxsize=4096)
def fold_text(text: str) -> str:
    """``text`` for matching: case-folded, accents removed (ł and ø too), punctuation as
    spaces, whitespace collapsed. ``"Płatność  NIE przeszła!"`` -> ``"platnosc nie przeszla"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.translate(_EXTRA_FOLDS)
    words = re.sub(r"[^\w]+", " ", plain)
    return " ".join(words.split())


_EXTRA_FOLDS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})


def _languages(interaction: Interaction) -> set[str]:
    found = {
        part.language.lower().split("-")[0]
        for part in interaction.content
        if isinstance(part, TextPart) and part.language
    }
    language = interaction.metadata.get("language")
    if isinstance(language, str) and language:
        found.add(language.lower().split("-")[0])
    return found


class TopicRule:
    """One topic and what marks it: keywords (matched as whole words or phrases, case
    and accent blind) and regular expressions (matched against the original text,
    case-insensitively).

    Args:
        topic: the label (stripped and lowercased).
        keywords: words or phrases; ``"card declined"`` matches "Card DECLINED again".
        patterns: regular expressions, searched in the text.
        language: apply only to interactions in this language (ISO 639-1, from a
            text part's ``language`` or ``metadata["language"]``).
        channels: apply only on these channels.
        kinds: apply only to these kinds.

    Raises:
        InvalidValueError: no keyword and no pattern, an empty keyword, or a pattern
            that does not compile.
    """

    def __init__(
        self,
        topic: str,
        *,
        keywords: Iterable[str] = (),
        patterns: Iterable[str] = (),
        language: str | None = None,
        channels: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> None:
        try:
            (self.topic,) = clean_topics([topic])
        except ValueError as exc:
            raise InvalidValueError("topic", topic, str(exc), mask=False) from None
        self.keywords = tuple(fold_text(k) for k in keywords)
        if any(not k for k in self.keywords):
            raise InvalidValueError(
                "keywords", list(keywords), "holds an empty keyword", mask=False
            )
        self.patterns: tuple[re.Pattern[str], ...] = ()
        compiled = []
        for pattern in patterns:
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise InvalidValueError(
                    "patterns", pattern, f"does not compile: {exc}", mask=False
                ) from None
        self.patterns = tuple(compiled)
        if not self.keywords and not self.patterns:
            raise InvalidValueError(
                "keywords", [], "a rule needs a keyword or a pattern", mask=False
            )
        self._keyword_re = (
            re.compile(r"\b(?:" + "|".join(re.escape(k) for k in self.keywords) + r")\b")
            if self.keywords
            else None
        )
        self.language = language.lower() if language else None
        self.channels = None if channels is None else frozenset(channels)
        self.kinds = None if kinds is None else frozenset(kinds)

    def applies(self, interaction: Interaction, text: str, folded: str) -> bool:
        """True when the rule marks ``interaction`` (whose text and folded text are given)."""
        if self.channels is not None and interaction.channel not in self.channels:
            return False
        if self.kinds is not None and interaction.kind not in self.kinds:
            return False
        if self.language is not None and self.language not in _languages(interaction):
            return False
        if self._keyword_re is not None and self._keyword_re.search(folded):
            return True
        return any(p.search(text) for p in self.patterns)

    def __repr__(self) -> str:
        return f"TopicRule({self.topic!r}, keywords={list(self.keywords)!r})"


class TopicRules:
    """A tagger made of :class:`TopicRule` objects: every rule that applies adds its
    topic. Interactions without text get no topic from rules."""

    def __init__(self, rules: Iterable[TopicRule]) -> None:
        self.rules = tuple(rules)

    def __call__(self, interaction: Interaction) -> list[str]:
        text = interaction.text
        if not text:
            return []
        folded = fold_text(text)
        return [rule.topic for rule in self.rules if rule.applies(interaction, text, folded)]


def tag(interaction: Interaction, taggers: Sequence[Tagger]) -> Interaction:
    """``interaction`` with the topics every tagger returns added to its own.

    Raises:
        InvalidValueError: a tagger returned something that is not a topic label
            (names the tagger).
    """
    if not taggers:
        return interaction
    topics = list(interaction.topics)
    for tagger in taggers:
        found = tagger(interaction)
        try:
            topics.extend(clean_topics([found] if isinstance(found, str) else found))
        except (ValueError, TypeError) as exc:
            name = getattr(tagger, "__name__", type(tagger).__name__)
            raise InvalidValueError(
                "topics", name, f"a tagger returned a bad label: {exc}", mask=False
            ) from exc
    cleaned = clean_topics(topics)
    if cleaned == interaction.topics:
        return interaction
    return interaction.model_copy(update={"topics": cleaned})
