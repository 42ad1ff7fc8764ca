"""Implementation of :mod:`omnichannel.consent` (documented there)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, PrivateAttr

from omnichannel._model import ANY, Consent, Direction, Interaction, Purpose
from omnichannel._topics import fold_text

__all__ = [
    "DEFAULT_OPT_IN_KEYWORDS",
    "DEFAULT_OPT_OUT_KEYWORDS",
    "ConsentPolicy",
    "ContactDecision",
    "decide",
]

DEFAULT_OPT_OUT_KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "en": ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "opt out", "optout"),
    "pl": ("stop", "nie dzwon", "nie dzwonic", "wypisz", "wypisz mnie", "rezygnuje"),
    "de": ("stopp", "abmelden", "abbestellen"),
    "fr": ("arret", "arreter", "desabonner", "desinscrire"),
    "es": ("baja", "alto", "cancelar"),
    "it": ("basta", "disiscrivimi", "cancellami"),
    "ru": ("стоп", "отписаться", "отписка"),
    "uk": ("стоп", "відписатися"),
}
"""Opt-out keywords per language, as :func:`~omnichannel.topics.fold_text` writes them
(lowercase, no accents). A whole message equal to one of them is an opt-out."""

DEFAULT_OPT_IN_KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "en": ("start", "unstop", "subscribe"),
    "pl": ("start", "zapisz"),
    "de": ("anmelden",),
}
"""Opt-in keywords per language: a whole message equal to one of them grants again."""


class ConsentPolicy(BaseModel):
    """How the Hub reads and records consent.

    Attributes:
        requires_grant: purposes that need a recorded grant; others are allowed unless
            refused.
        opt_out_keywords: opt-out keywords per language (all languages are checked).
        opt_in_keywords: opt-in keywords per language.
        keyword_purposes: the purposes an opt-out or opt-in keyword answers for. A
            ``STOP`` on SMS stops every message on that channel, so both by default.
        keyword_channels: channels where keywords are read (None: every channel).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    requires_grant: frozenset[str] = frozenset({Purpose.MARKETING.value})
    opt_out_keywords: Mapping[str, tuple[str, ...]] = DEFAULT_OPT_OUT_KEYWORDS
    opt_in_keywords: Mapping[str, tuple[str, ...]] = DEFAULT_OPT_IN_KEYWORDS
    keyword_purposes: tuple[str, ...] = (Purpose.MARKETING.value, Purpose.SERVICE.value)
    keyword_channels: frozenset[str] | None = None
    _out: frozenset[str] = PrivateAttr(default=frozenset())
    _in: frozenset[str] = PrivateAttr(default=frozenset())

    def model_post_init(self, context: object, /) -> None:
        """Fold the keywords once, as messages are folded."""
        self._out = frozenset(fold_text(k) for ks in self.opt_out_keywords.values() for k in ks)
        self._in = frozenset(fold_text(k) for ks in self.opt_in_keywords.values() for k in ks)

    def keyword(self, interaction: Interaction) -> bool | None:
        """False for an opt-out message, True for an opt-in one, None for anything else.

        Only inbound interactions whose whole text is a keyword count: "please stop
        calling me at work" is a message for a person, not a keyword.
        """
        if interaction.direction is not Direction.INBOUND:
            return None
        if self.keyword_channels is not None and interaction.channel not in self.keyword_channels:
            return None
        text = interaction.text
        if not text or len(text) > 40:
            return None
        folded = fold_text(text)
        if folded in self._out:
            return False
        if folded in self._in:
            return True
        return None


class ContactDecision(BaseModel):
    """The answer of :meth:`Hub.can_contact <omnichannel.Hub.can_contact>`; true when
    contact is allowed.

    Attributes:
        allowed: whether the business may contact the customer.
        channel: the channel asked about.
        purpose: the purpose asked about.
        reason: why, in words.
        deciding: the records the answer rests on (empty when no record answers).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    allowed: bool
    channel: str
    purpose: str
    reason: str
    deciding: tuple[Consent, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed


def _answers(record: Consent, channel: str, purpose: str) -> bool:
    return record.channel in (channel, ANY) and record.purpose in (purpose, ANY)


def decide(
    records: Sequence[Consent],
    people: Iterable[str],
    channel: str,
    purpose: str,
    policy: ConsentPolicy,
) -> ContactDecision:
    """Apply the module's rules to ``records`` (oldest first) for a profile whose
    histories are those of ``people`` (the profile and the profiles merged into it)."""
    wanted = set(people)
    newest: dict[str, Consent] = {}
    for record in records:
        if not _answers(record, channel, purpose):
            continue
        for person in {record.profile_id, *record.covers} & wanted:
            newest[person] = record
    answers = sorted(
        {r.id: r for r in newest.values()}.values(), key=lambda r: (r.recorded_at, r.id)
    )
    refusals = [r for r in answers if not r.granted]
    if refusals:
        last = refusals[-1]
        return ContactDecision(
            allowed=False,
            channel=channel,
            purpose=purpose,
            reason=f"refused on {last.recorded_at:%Y-%m-%d} ({last.source})"
            + (" and the most restrictive answer wins" if len(answers) > 1 else ""),
            deciding=tuple(refusals),
        )
    if answers:
        last = answers[-1]
        return ContactDecision(
            allowed=True,
            channel=channel,
            purpose=purpose,
            reason=f"granted on {last.recorded_at:%Y-%m-%d} ({last.source})",
            deciding=tuple(answers),
        )
    if purpose in policy.requires_grant:
        return ContactDecision(
            allowed=False,
            channel=channel,
            purpose=purpose,
            reason=f"no consent recorded; {purpose} needs one",
        )
    return ContactDecision(
        allowed=True,
        channel=channel,
        purpose=purpose,
        reason=f"no objection recorded; {purpose} is allowed unless refused",
    )
