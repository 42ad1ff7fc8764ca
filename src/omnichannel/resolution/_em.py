"""Learning m, u and λ from the data itself, without labels (as Splink does).

1. **u** (how often random pairs land on each level) comes from random pairs: the exact
   level exactly, from value counts (``Σ count(v)² / n²``); the other levels from a seeded
   random sample of pairs of differing values (every pair of distinct values, weighted by
   their counts, when there are few). Random pairs include the true matches; once λ and m
   are known, they are taken out of the exact level (``u = (P - λ·m) / (1 - λ)``).
2. **m** (how often true matches land on each level) comes from expectation-maximisation
   over the blocked pairs, one *session* per part of the blocking ``Or``. Within the pairs
   a rule such as ``block_on("date_of_birth")`` yields, the date of birth agrees by
   construction, so that comparison tells nothing and is left out of the session; the
   other comparisons' m and the session's share of matches are learned with u held fixed.
   A weak Dirichlet prior (worth ten matches at the starting m) keeps a session with few
   true matches from mistaking a crowd of look-alike strangers for them. Each
   comparison's m is the average over the sessions that learned it, weighted by their
   expected number of matches.
3. **λ** (the probability that two random records match) follows from the sessions: a
   session on ``block_on(f)`` expects ``λ_R · pairs_R`` matches, which are the share
   ``P(both have f) · m_exact(f)`` of all matches; the median of these estimates of the
   number of matches, over all pairs, is λ.

Data too small for any session (fewer than ten pairs per rule) keeps the starting m and λ.
Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
import random
import statistics
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from operator import add

from omnichannel._errors import InvalidValueError
from omnichannel.resolution._blocking import BlockOn, rule_codes
from omnichannel.resolution._comparisons import Comparison
from omnichannel.resolution._scoring import Frame, Settings, paused_gc

__all__ = ["train"]

Records = Sequence[Mapping[str, object]]

DEFAULT_U_SAMPLE_SIZE = 10_000
_U_PSEUDOCOUNT = 0.5  # per sampled level: no level is ever estimated impossible
_M_PRIOR_PAIRS = 10.0
_MIN_SESSION_PAIRS = 10


def train(
    records: Records,
    settings: Settings,
    *,
    right: Records | None = None,
    seed: int = 0,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
    u_sample_size: int = DEFAULT_U_SAMPLE_SIZE,
) -> Settings:
    """Learn m, u, λ and term frequencies from unlabelled records.

    Args:
        records: the records to deduplicate (or the left list, with ``right``).
        settings: comparisons and blocking; their probabilities are the starting point.
        right: the right list when the settings are for linking two lists.
        seed: seeds the random pairs that estimate u; equal seeds give equal settings.
        max_iterations: the most EM iterations per session.
        tolerance: a session stops when no probability moves by more than this.
        u_sample_size: how many random pairs estimate each comparison's u.

    Returns:
        A copy of ``settings`` with the learned ``m_probabilities``, ``u_probabilities``,
        ``prior`` and ``term_frequencies`` (thresholds unchanged).

    Raises:
        InvalidValueError: ``settings`` is not a :class:`Settings`, or an option is out of
            range.
        TooManyPairsError: the blocking yields more than ``settings.max_pairs`` pairs.
    """
    if not isinstance(settings, Settings):
        raise InvalidValueError("settings", settings, "must be a Settings", mask=False)
    with paused_gc():
        frame = Frame(settings.comparisons, records, right)
        per_part, union = rule_codes(settings.blocking, records, right, settings.max_pairs)
        patterns = frame.levels(union)
        return train_frame(
            frame,
            settings,
            per_part,
            union,
            patterns,
            seed=seed,
            max_iterations=max_iterations,
            tolerance=tolerance,
            u_sample_size=u_sample_size,
        )


def train_frame(
    frame: Frame,
    settings: Settings,
    per_part: Sequence[set[int]],
    union: Sequence[int],
    patterns: Sequence[tuple[int, ...]],
    *,
    seed: int = 0,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
    u_sample_size: int = DEFAULT_U_SAMPLE_SIZE,
) -> Settings:
    """Internal: :func:`train` on data already prepared, blocked and compared."""
    for name, value in (("u_sample_size", u_sample_size), ("max_iterations", max_iterations)):
        if value < 1:
            raise InvalidValueError(name, value, "must be positive", mask=False)
    if not tolerance > 0:
        raise InvalidValueError("tolerance", tolerance, "must be positive", mask=False)
    rng = random.Random(seed)
    u = [
        _estimate_u(frame, index, comparison, rng, u_sample_size)
        for index, comparison in enumerate(frame.comparisons)
    ]
    m = [list(row) for row in settings.m_probabilities]
    position = {code: index for index, code in enumerate(union)}
    parts = settings.blocking.parts()
    sessions: list[_Session] = []
    for rule, codes in zip(parts, per_part, strict=True):
        active = [
            index
            for index, comparison in enumerate(frame.comparisons)
            if not set(comparison.fields) & rule.fields
        ]
        if len(codes) < _MIN_SESSION_PAIRS or not active:
            continue
        counts = Counter(map(patterns.__getitem__, map(position.__getitem__, codes)))
        session = _Session(rule.fields if isinstance(rule, BlockOn) else None, len(codes))
        session.run(counts, active, m, u, max_iterations, tolerance)
        sessions.append(session)

    learned = _combine(sessions, m)
    prior = _estimate_prior(frame, sessions, learned, settings.prior)
    if sessions:
        u = [
            _without_matches(row, m_row, prior, frame.total_pairs)
            for row, m_row in zip(u, learned, strict=True)
        ]
    tf = {
        comparison.name: frame.frequencies(index)
        for index, comparison in enumerate(frame.comparisons)
        if comparison.term_frequency
    }
    return Settings(
        comparisons=settings.comparisons,
        blocking=settings.blocking,
        m_probabilities=tuple(tuple(row) for row in learned),
        u_probabilities=tuple(tuple(row) for row in u),
        prior=prior,
        link_threshold=settings.link_threshold,
        review_threshold=settings.review_threshold,
        term_frequencies=tf,
        max_pairs=settings.max_pairs,
    )


def _estimate_u(
    frame: Frame, index: int, comparison: Comparison, rng: random.Random, sample_size: int
) -> list[float]:
    """P(level | random pair) for one comparison, given both values are present."""
    levels = len(comparison.levels)
    left = [v for v in frame.left[index] if v is not None]
    right = left if not frame.is_link else [v for v in frame.right[index] if v is not None]
    if not left or not right:
        return [1.0 / levels] * levels
    left_counts = Counter(left)
    right_counts = left_counts if not frame.is_link else Counter(right)
    if frame.is_link:
        same = sum(c * right_counts.get(v, 0) for v, c in left_counts.items())
        total = len(left) * len(right)
    else:
        same = sum(c * (c - 1) for c in left_counts.values())
        total = len(left) * (len(left) - 1)
    exact = same / total if total else 0.0

    tallies = [0.0] * levels
    compare = comparison.compare
    if len(left_counts) * len(right_counts) <= sample_size // 4:
        # Few distinct values: every pair of distinct values, weighted by their counts.
        for a, count_a in left_counts.items():
            for b, count_b in right_counts.items():
                if a != b:
                    tallies[compare(a, b)] += count_a * count_b
    else:
        firsts = _draw(rng, left, sample_size)
        seconds = _draw(rng, right, sample_size)
        found = Counter([compare(a, b) for a, b in zip(firsts, seconds, strict=True) if a != b])
        for level, count in found.items():
            tallies[level] += count
    observed = sum(tallies[1:])
    scale = observed + _U_PSEUDOCOUNT * (levels - 1)
    others = [(tallies[level] + _U_PSEUDOCOUNT) / scale for level in range(1, levels)]
    floor = 1.0 / (total + 1.0) if total else 1e-9
    exact = min(max(exact, floor), 1.0 - floor)
    return [exact, *((1.0 - exact) * p for p in others)]


def _without_matches(
    random_pairs: Sequence[float], m: Sequence[float], prior: float, total_pairs: int
) -> list[float]:
    """u of the exact level without the true matches that random pairs include.

    Random pairs include the true matches (a share λ of them), which mostly agree
    exactly: ``P(exact) = λ·m + (1 - λ)·u``, so ``u = (P(exact) - λ·m) / (1 - λ)``. On
    small data, where λ is not negligible, this keeps a field that only the same person
    shares (an id number) from looking shared by strangers. The exact level is counted,
    not sampled, so the difference is not noise; it never drops below one pair in all
    pairs. The sampled levels keep their shares of the rest.
    """
    floor = 1.0 / (total_pairs + 1.0)
    exact = max((random_pairs[0] - prior * m[0]) / (1.0 - prior), floor)
    rest = sum(random_pairs[1:])
    if rest <= 0.0:
        return list(random_pairs)
    return [exact, *((1.0 - exact) * p / rest for p in random_pairs[1:])]


def _draw(rng: random.Random, population: Sequence[str], k: int) -> list[str]:
    """``k`` items drawn with replacement (one big random integer: fast, seeded)."""
    size = len(population)
    raw = rng.getrandbits(64 * k).to_bytes(8 * k, "little")
    return [population[i % size] for i in memoryview(raw).cast("Q")]


class _Session:
    """One EM run over the pairs of one blocking rule, u held fixed."""

    def __init__(self, fields: frozenset[str] | None, pairs: int) -> None:
        self.fields = fields
        self.pairs = pairs
        self.active: list[int] = []
        self.m: dict[int, list[float]] = {}
        self.share = 0.5
        self.expected_matches = 0.0
        self.iterations = 0

    def run(
        self,
        counts: Counter[tuple[int, ...]],
        active: list[int],
        m_start: Sequence[Sequence[float]],
        u: Sequence[Sequence[float]],
        max_iterations: int,
        tolerance: float,
    ) -> None:
        self.active = active
        rows = list(counts.items())  # insertion order: deterministic for a given input
        if not rows:
            return
        total = float(sum(counts.values()))
        counts_of_rows = [float(count) for _, count in rows]
        # One column of levels per active comparison; per level, the rows on it (so that
        # the M-step is one C-level sum per level). The level -1 (missing) indexes the
        # extra last weight, which stays 0.
        everything = list(zip(*(pattern for pattern, _ in rows), strict=True))
        columns = [list(everything[i]) for i in active]
        groups: list[list[list[int]]] = []
        for i, column in zip(active, columns, strict=True):
            order = sorted(range(len(column)), key=column.__getitem__)
            ordered = list(map(column.__getitem__, order))
            groups.append(
                [
                    order[bisect_left(ordered, level) : bisect_right(ordered, level)]
                    for level in range(len(u[i]))
                ]
            )
        log_u = [[math.log2(p) for p in u[i]] for i in active]
        m = [list(m_start[i]) for i in active]
        # A Dirichlet prior worth _M_PRIOR_PAIRS matches, centred on the starting m: it
        # keeps a session with few matches from turning its "match" class into a cluster
        # of look-alike strangers, and vanishes against thousands of matches.
        prior_counts = [[p * _M_PRIOR_PAIRS for p in row] for row in m]
        share = 0.5
        matched = 0.0
        for iteration in range(1, max_iterations + 1):
            self.iterations = iteration
            prior = math.log2(share / (1.0 - share))
            weights = [prior] * len(rows)
            for column, m_row, u_row in zip(columns, m, log_u, strict=True):
                table = [math.log2(p) - lu for p, lu in zip(m_row, u_row, strict=True)]
                table.append(0.0)  # level -1: missing
                weights = list(map(add, weights, map(table.__getitem__, column)))
            masses = [
                n / (1.0 + math.pow(2.0, -w)) if w > -1000.0 else 0.0
                for n, w in zip(counts_of_rows, weights, strict=True)
            ]
            matched = sum(masses)
            mass_of = masses.__getitem__
            new_m = []
            for level_rows, extra in zip(groups, prior_counts, strict=True):
                sums = [sum(map(mass_of, members)) for members in level_rows]
                denominator = sum(sums) + _M_PRIOR_PAIRS
                new_m.append([(a + b) / denominator for a, b in zip(sums, extra, strict=True)])
            new_share = min(max(matched / total, 1e-9), 1.0 - 1e-9)
            change = abs(new_share - share)
            for old_row, new_row in zip(m, new_m, strict=True):
                for a, b in zip(old_row, new_row, strict=True):
                    change = max(change, abs(a - b))
            m, share = new_m, new_share
            if change < tolerance:
                break
        self.expected_matches = matched
        self.share = share
        self.m = dict(zip(active, m, strict=True))


def _combine(sessions: Sequence[_Session], start: Sequence[Sequence[float]]) -> list[list[float]]:
    """Each comparison's m: the sessions' estimates, weighted by their expected matches."""
    learned = []
    for index, row in enumerate(start):
        estimates = [(s.m[index], s.expected_matches) for s in sessions if index in s.m]
        weight = sum(w for _, w in estimates)
        if not estimates or weight <= 0:
            learned.append(list(row))
            continue
        learned.append(
            [sum(m[level] * w for m, w in estimates) / weight for level in range(len(row))]
        )
    return learned


def _estimate_prior(
    frame: Frame, sessions: Sequence[_Session], m: Sequence[Sequence[float]], fallback: float
) -> float:
    """λ from the sessions on plain ``block_on`` rules (see the module docstring)."""
    total_pairs = frame.total_pairs
    if total_pairs <= 0:
        return fallback
    by_field = {c.fields[0]: i for i, c in enumerate(frame.comparisons) if len(c.fields) == 1}
    present: dict[int, float] = {}
    estimates = []
    for session in sessions:
        if session.fields is None:
            continue
        share_of_matches = 1.0
        for field in session.fields:
            index = by_field.get(field)
            if index is None:
                share_of_matches = 0.0
                break
            if index not in present:
                present[index] = _present(frame, index)
            share_of_matches *= present[index] * m[index][0]
        if share_of_matches <= 0.0:
            continue
        estimates.append(session.share * session.pairs / share_of_matches)
    if not estimates:
        return fallback
    matches = statistics.median(estimates)
    return min(max(matches / total_pairs, 1.0 / (total_pairs + 1.0)), 0.5)


def _present(frame: Frame, index: int) -> float:
    """P(both records of a pair have a value for comparison ``index``)."""
    left = frame.left[index]
    right = frame.right[index]
    left_share = sum(v is not None for v in left) / len(left) if left else 0.0
    right_share = sum(v is not None for v in right) / len(right) if right else 0.0
    return left_share * right_share
