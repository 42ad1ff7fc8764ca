"""Fellegi-Sunter scoring: how strongly the field comparisons say two records are one.

Each comparison sorts a pair into a level. For every level two probabilities are known
(or learned by :func:`omnichannel.resolution.train`):

* **m**, how often two records of the *same* person land on that level;
* **u**, how often two *random* records do.

The level's match weight is ``log2(m / u)``: positive when agreement at that level is more
typical of matches, negative when of random pairs. A missing value weighs 0. The prior
``λ`` is the probability that two random records are one person; its weight is
``log2(λ / (1 - λ))``. The match weight of a pair is the prior weight plus each field's
weight, and the posterior probability is ``2**w / (1 + 2**w)`` (Bayes' rule in log-odds).

Term frequencies refine exact agreement: for a comparison with ``term_frequency=True``
the u of an exact match on value v is v's frequency in the data, so a shared "Smith" adds
``log2(m / f("smith"))``, less than a shared rare surname.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from omnichannel._errors import InvalidValueError
from omnichannel._model import FieldContribution
from omnichannel.resolution._blocking import DEFAULT_MAX_PAIRS, BlockingRule, Or
from omnichannel.resolution._comparisons import NULL_LEVEL, Comparison

__all__ = [
    "Decision",
    "PairScore",
    "Settings",
    "explain_score",
    "score",
]

Decision = Literal["link", "review", "distinct"]
Records = Sequence[Mapping[str, object]]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_MISSING = "missing"


def _default_m(levels: int) -> tuple[float, ...]:
    if levels == 2:
        return (0.9, 0.1)
    middle = 0.08 / (levels - 2)
    return (0.88, *([middle] * (levels - 2)), 0.04)


def _default_u(levels: int) -> tuple[float, ...]:
    if levels == 2:
        return (0.01, 0.99)
    middle = 0.02 / (levels - 2)
    return (0.01, *([middle] * (levels - 2)), 0.97)


def _probability(weight: float) -> float:
    if weight >= 0:
        return 1.0 / (1.0 + math.pow(2.0, -weight))
    odds = math.pow(2.0, max(weight, -1000.0))
    return odds / (1.0 + odds)


def _weight_of(probability: float) -> float:
    if probability <= 0.0:
        return -math.inf
    if probability >= 1.0:
        return math.inf
    return math.log2(probability / (1.0 - probability))


class Settings(BaseModel):
    """Everything scoring needs: comparisons, blocking, m/u, prior and thresholds.

    Build one by hand, let :func:`omnichannel.resolution.infer_settings` guess it from field
    names, and learn its probabilities with :func:`omnichannel.resolution.train`. Left
    out, ``m_probabilities`` and ``u_probabilities`` get neutral starting values
    (untrained: fine for trying things out, not for decisions).

    Attributes:
        comparisons: the field comparisons, each with its levels.
        blocking: which pairs are scored at all (an :class:`Or` of rules is usual; a list
            of rules is taken as their ``Or``); each part of an ``Or`` is also one EM
            training session.
        m_probabilities: per comparison, per level: P(level | same person).
        u_probabilities: per comparison, per level: P(level | two random records).
        prior: λ, the probability that two random records (of one list, or one from each
            list when linking) are the same person.
        link_threshold: link a pair when its posterior probability is at least this.
        review_threshold: below ``link_threshold``, send a pair to review when its
            probability is at least this; below it the records stay apart.
        term_frequencies: per comparison name, each prepared value's share of the records
            (learned by ``train``); used by the exact level of term-frequency comparisons.
        max_pairs: the most candidate pairs blocking may yield (see ``TooManyPairsError``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    comparisons: tuple[Comparison, ...]
    blocking: BlockingRule
    m_probabilities: tuple[tuple[float, ...], ...] = ()
    u_probabilities: tuple[tuple[float, ...], ...] = ()
    prior: float = Field(default=1e-4, gt=0.0, lt=1.0)
    link_threshold: float = Field(default=0.9, ge=0.0, le=1.0)
    review_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    term_frequencies: Mapping[str, Mapping[str, float]] = Field(default_factory=dict)
    max_pairs: int = Field(default=DEFAULT_MAX_PAIRS, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        comparisons = data.get("comparisons")
        if not isinstance(comparisons, (list, tuple)) or not all(
            isinstance(c, Comparison) for c in comparisons
        ):
            return data
        data = dict(data)
        if not data.get("m_probabilities"):
            data["m_probabilities"] = tuple(_default_m(len(c.levels)) for c in comparisons)
        if not data.get("u_probabilities"):
            data["u_probabilities"] = tuple(_default_u(len(c.levels)) for c in comparisons)
        return data

    @field_validator("blocking", mode="before")
    @classmethod
    def _blocking_union(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)) and value:
            return value[0] if len(value) == 1 else Or(*value)
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.comparisons:
            raise ValueError("comparisons: give at least one comparison")
        names = [c.name for c in self.comparisons]
        if len(set(names)) != len(names):
            raise ValueError(f"comparisons: each field may be compared once, got {names}")
        for kind, table in (("m", self.m_probabilities), ("u", self.u_probabilities)):
            if len(table) != len(self.comparisons):
                raise ValueError(f"{kind}_probabilities: one row per comparison")
            for comparison, row in zip(self.comparisons, table, strict=True):
                if len(row) != len(comparison.levels):
                    raise ValueError(
                        f"{kind}_probabilities: {comparison.name} has "
                        f"{len(comparison.levels)} levels, got {len(row)} probabilities"
                    )
                if any(not 0.0 < p <= 1.0 for p in row):
                    raise ValueError(
                        f"{kind}_probabilities: {comparison.name}: each must be in (0, 1]"
                    )
        if self.review_threshold > self.link_threshold:
            raise ValueError("review_threshold must not exceed link_threshold")
        return self

    @property
    def prior_weight(self) -> float:
        """``log2(λ / (1 - λ))``: the match weight before any field is compared."""
        return math.log2(self.prior / (1.0 - self.prior))

    def level_weights(self) -> tuple[tuple[float, ...], ...]:
        """Per comparison, per level: the match weight ``log2(m / u)``."""
        return tuple(
            tuple(math.log2(m / u) for m, u in zip(m_row, u_row, strict=True))
            for m_row, u_row in zip(self.m_probabilities, self.u_probabilities, strict=True)
        )

    def describe(self) -> str:
        """The parameters as a readable table: one line per comparison level."""
        lines = [f"prior λ = {self.prior:.3g} (weight {self.prior_weight:+.1f})"]
        weights = self.level_weights()
        for index, comparison in enumerate(self.comparisons):
            tf = " (term-frequency adjusted)" if comparison.term_frequency else ""
            lines.append(f"{comparison.name}{tf}:")
            for level, label in enumerate(comparison.levels):
                m = self.m_probabilities[index][level]
                u = self.u_probabilities[index][level]
                w = weights[index][level]
                lines.append(f"  {label:<32} m={m:.4f} u={u:.6f} weight={w:+.2f}")
        return "\n".join(lines)

    def decide(self, probability: float) -> Decision:
        """``"link"``, ``"review"`` or ``"distinct"`` for a posterior probability."""
        if probability >= self.link_threshold:
            return "link"
        if probability >= self.review_threshold:
            return "review"
        return "distinct"


class PairScore(BaseModel):
    """The score of one pair of records, with every field's contribution.

    Attributes:
        probability: the posterior probability that the records are one person.
        match_weight: ``prior_weight`` plus every contribution's weight (log2 odds).
        prior_weight: ``log2(λ / (1 - λ))``.
        contributions: per compared field, its level and weight (0 when missing).
        decision: what the settings' thresholds make of ``probability``.
    """

    model_config = _FROZEN
    probability: float
    match_weight: float
    prior_weight: float
    contributions: tuple[FieldContribution, ...]
    decision: Decision

    def explain(self) -> str:
        """The score as one sentence; see :func:`explain_score`."""
        return explain_score(self)


_VERBS = {"link": "linked", "review": "for review", "distinct": "not linked"}


def explain_score(pair_score: PairScore) -> str:
    """Render a score as a sentence naming each field's contribution.

    ``"linked with probability 0.998 (match weight +9.1 = prior -13.3 + fields): surname
    exact (+8.1), date_of_birth day/month swapped (+4.2), postcode differs (-3.0)"``.
    """
    parts = []
    for c in pair_score.contributions:
        level = "differs" if c.level == "else" else c.level
        parts.append(f"{c.field} {level} ({c.weight:+.1f})")
    return (
        f"{_VERBS[pair_score.decision]} with probability {pair_score.probability:.3f} "
        f"(match weight {pair_score.match_weight:+.1f} = prior {pair_score.prior_weight:+.1f}"
        f" + fields): {', '.join(parts)}"
    )


class Model:
    """Internal: settings compiled for fast scoring.

    Per comparison, its level weights and contributions are lists with one extra last
    entry for the missing level: a level of -1 indexes it directly, so a pattern's weight
    is one C-level ``sum(map(...))``.
    """

    def __init__(self, settings: Settings, tf_tables: Sequence[Mapping[str, float] | None]):
        self.settings = settings
        self.comparisons = settings.comparisons
        self.weights = [[*row, 0.0] for row in settings.level_weights()]
        self.prior_weight = settings.prior_weight
        self.review_weight = _weight_of(settings.review_threshold)
        # Per term-frequency comparison, value -> its share of the records; an exact match
        # on value v weighs log2(m_exact / f(v)) instead of log2(m_exact / u_exact).
        self.tf_adjust: list[Mapping[str, float] | None] = [
            table if comparison.term_frequency and table else None
            for comparison, table in zip(self.comparisons, tf_tables, strict=True)
        ]
        self.tf_indexes = [i for i, table in enumerate(self.tf_adjust) if table is not None]
        self._log_u_exact = [math.log2(row[0]) for row in settings.u_probabilities]
        self._plain = [
            [
                *(
                    FieldContribution(field=c.name, level=label, weight=weight)
                    for label, weight in zip(c.levels, row, strict=False)
                ),
                FieldContribution(field=c.name, level=_MISSING, weight=0.0),
            ]
            for c, row in zip(self.comparisons, self.weights, strict=True)
        ]
        self._tf_contributions: list[dict[str, FieldContribution]] = [{} for _ in self.weights]
        # The most each level can weigh, term frequencies included (for filtering).
        self._upper = [list(row) for row in self.weights]
        for index in self.tf_indexes:
            self._upper[index][0] += self.max_tf_adjustment(index)
        self._patterns: dict[
            tuple[int, ...], tuple[tuple[FieldContribution, ...], float, tuple[int, ...]]
        ] = {}

    def contribution(self, index: int, level: int, value: str | None = None) -> FieldContribution:
        """The contribution of comparison ``index`` at ``level`` (``value``: for TF)."""
        plain = self._plain[index][level]
        table = self.tf_adjust[index]
        if level != 0 or value is None or table is None:
            return plain
        found = self._tf_contributions[index].get(value)
        if found is None:
            frequency = table.get(value, 0.0)
            if frequency <= 0.0:
                found = plain
            else:
                found = FieldContribution(
                    field=plain.field,
                    level=plain.level + " (term frequency)",
                    weight=plain.weight + self._log_u_exact[index] - math.log2(frequency),
                )
            self._tf_contributions[index][value] = found
        return found

    def max_tf_adjustment(self, index: int) -> float:
        """The largest extra weight term frequencies can give comparison ``index``."""
        table = self.tf_adjust[index]
        if not table:
            return 0.0
        rarest = min((f for f in table.values() if f > 0.0), default=1.0)
        return max(0.0, self._log_u_exact[index] - math.log2(rarest))

    def pattern_weight(self, pattern: Sequence[int]) -> float:
        """The match weight of a level pattern, without term frequencies."""
        return self.prior_weight + sum(map(list.__getitem__, self.weights, pattern))

    def upper_weight(self, pattern: Sequence[int]) -> float:
        """The most a pair with this pattern can weigh, whatever its values."""
        return self.prior_weight + sum(map(list.__getitem__, self._upper, pattern))

    def pair_score(
        self, pattern: tuple[int, ...], columns: Sequence[Sequence[str | None]], row: int
    ) -> PairScore:
        """The full score of a pair: its levels, and the left record's prepared values.

        ``columns[index][row]`` is the left record's value for comparison ``index``; only
        term-frequency comparisons on their exact level read it.
        """
        base = self._patterns.get(pattern)
        if base is None:
            contributions = tuple(map(list.__getitem__, self._plain, pattern))
            tf_at = tuple(index for index in self.tf_indexes if pattern[index] == 0)
            base = self._patterns[pattern] = (
                contributions,
                self.pattern_weight(pattern),
                tf_at,
            )
        contributions, total, tf_at = base
        if tf_at:
            adjusted = list(contributions)
            for index in tf_at:
                value = columns[index][row]
                if value is not None:
                    adjusted[index] = self.contribution(index, 0, value)
                    total += adjusted[index].weight - contributions[index].weight
            contributions = tuple(adjusted)
        probability = _probability(total)
        return PairScore(
            probability=probability,
            match_weight=total,
            prior_weight=self.prior_weight,
            contributions=contributions,
            decision=self.settings.decide(probability),
        )


@contextmanager
def paused_gc() -> Iterator[None]:
    """Internal: suspend the cyclic garbage collector around a batch run.

    Batch matching allocates hundreds of thousands of small tuples and lists and frees
    them by reference counting; none forms a cycle. The collector's repeated passes over
    every live object (a loaded DataFrame included) would otherwise cost about a quarter
    of the run. It is re-enabled on exit, only if it was enabled on entry.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settings_tf_tables(settings: Settings) -> list[Mapping[str, float] | None]:
    """Internal: the stored term-frequency table of each comparison (``None`` if none)."""
    return [settings.term_frequencies.get(c.name) for c in settings.comparisons]


def score(a: Mapping[str, object], b: Mapping[str, object], settings: Settings) -> PairScore:
    """Score one pair of records: probability, match weight and each field's part.

    Term-frequency adjustments use the frequencies stored in ``settings`` by
    :func:`omnichannel.resolution.train`; values it did not see get none.
    """
    if not isinstance(settings, Settings):
        raise InvalidValueError("settings", settings, "must be a Settings", mask=False)
    pattern: list[int] = []
    values: list[str | None] = []
    for comparison in settings.comparisons:
        left = comparison.prepare(comparison.extract(a))
        right = comparison.prepare(comparison.extract(b))
        values.append(left)
        if left is None or right is None:
            pattern.append(NULL_LEVEL)
        elif left == right:
            pattern.append(0)
        else:
            pattern.append(comparison.compare(left, right))
    columns = [[value] for value in values]
    return Model(settings, settings_tf_tables(settings)).pair_score(tuple(pattern), columns, 0)


class Frame:
    """Internal: the prepared values of one or two record lists, one column per comparison.

    Each record's value is prepared once; pairs are addressed by code ``i * width + j``
    where ``width`` is the length of the right list (of the one list when deduplicating).
    """

    def __init__(
        self, comparisons: Sequence[Comparison], left: Records, right: Records | None
    ) -> None:
        self.comparisons = tuple(comparisons)
        self.is_link = right is not None
        self.left = [self._column(c, left) for c in self.comparisons]
        self.right = self.left if right is None else [self._column(c, right) for c in comparisons]
        self.left_size = len(left)
        self.right_size = len(left) if right is None else len(right)
        self.width = self.right_size

    @staticmethod
    def _column(comparison: Comparison, records: Records) -> list[str | None]:
        if len(comparison.fields) == 1:
            field = comparison.fields[0]
            raws = [record.get(field) for record in records]
        else:
            raws = [comparison.extract(record) for record in records]
        prepare = comparison.prepare
        try:
            prepared = {raw: prepare(raw) for raw in set(raws)}
        except TypeError:  # an unhashable raw value
            return [prepare(raw) for raw in raws]
        return list(map(prepared.__getitem__, raws))

    @property
    def total_pairs(self) -> int:
        """How many pairs the records make (before blocking)."""
        if self.is_link:
            return self.left_size * self.right_size
        return self.left_size * (self.left_size - 1) // 2

    def levels(self, codes: Sequence[int]) -> list[tuple[int, ...]]:
        """The level pattern of each pair code, in order."""
        width = self.width
        firsts = [code // width for code in codes]
        seconds = [code % width for code in codes]
        columns: list[list[int]] = []
        for index, comparison in enumerate(self.comparisons):
            left = self.left[index]
            right = self.right[index]
            compare = comparison.compare
            memo: dict[tuple[str, str], int] = {}
            out: list[int] = []
            append = out.append
            for i, j in zip(firsts, seconds, strict=True):
                a = left[i]
                b = right[j]
                if a is None or b is None:
                    append(NULL_LEVEL)
                elif a == b:
                    append(0)
                else:
                    key = (a, b)
                    level = memo.get(key)
                    if level is None:
                        level = memo[key] = compare(a, b)
                    append(level)
            columns.append(out)
        return list(zip(*columns, strict=True))

    def frequencies(self, index: int) -> dict[str, float]:
        """Each prepared value's share of the present values of comparison ``index``."""
        counts = Counter(v for v in self.left[index] if v is not None)
        if self.is_link:
            counts.update(v for v in self.right[index] if v is not None)
        total = sum(counts.values())
        return {value: count / total for value, count in counts.items()} if total else {}

    def tf_tables(self, settings: Settings) -> list[Mapping[str, float] | None]:
        """Stored term frequencies where the settings have them, else this data's."""
        tables: list[Mapping[str, float] | None] = []
        for index, comparison in enumerate(self.comparisons):
            if not comparison.term_frequency:
                tables.append(None)
                continue
            stored = settings.term_frequencies.get(comparison.name)
            tables.append(stored if stored else self.frequencies(index))
        return tables


def score_pairs(
    model: Model, frame: Frame, codes: Sequence[int], patterns: Sequence[tuple[int, ...]]
) -> list[tuple[int, PairScore]]:
    """Internal: the pairs at or above the review threshold, with their full scores."""
    cache: dict[tuple[int, ...], float] = {}
    review_weight = model.review_weight
    found: list[tuple[int, PairScore]] = []
    width = frame.width
    left = frame.left
    for code, pattern in zip(codes, patterns, strict=True):
        upper = cache.get(pattern)
        if upper is None:
            upper = cache[pattern] = model.upper_weight(pattern)
        if upper < review_weight:
            continue
        pair_score = model.pair_score(pattern, left, code // width)
        if pair_score.decision != "distinct":
            found.append((code, pair_score))
    return found
