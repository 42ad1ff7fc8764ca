"""The Poisson upper tail against a high-precision reference, and spike detection."""

from __future__ import annotations

import math
import random
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnichannel import InvalidValueError
from omnichannel.analytics import MIN_RATE, Spike, detect_spikes, poisson_upper_tail


def reference_tail(k: int, rate: float) -> float:
    """``P(X >= k)`` by direct summation of the probabilities in 60-digit decimals."""
    with localcontext() as context:
        context.prec = 60
        lam = Decimal(repr(rate))
        term = (-lam).exp()  # P(X = 0)
        for j in range(k):
            term = term * lam / (j + 1)
        tail = Decimal(0)
        j = k
        while True:
            tail += term
            j += 1
            term = term * lam / j
            if j > lam and term < tail * Decimal("1e-40"):
                return float(tail)


def reference_lgamma(k: int, rate: float) -> float:
    """The same by summing ``exp(j log(rate) - rate - lgamma(j + 1))`` with ``math.fsum``."""
    terms = []
    j = k
    while True:
        term = math.exp(j * math.log(rate) - rate - math.lgamma(j + 1))
        terms.append(term)
        j += 1
        if j > rate and term < 1e-20 * terms[0]:
            return math.fsum(terms)


GRID = [
    (rate, k)
    for rate in (0.001, 0.5, 1.0, 2.5, 7.0, 20.0, 55.5, 100.0, 1000.0)
    for k in sorted(
        {1, 2, 3, 5, 10, max(1, int(rate / 2)), int(rate), int(rate) + 1, int(rate) + 2}
        | {int(rate * 1.5) + 1, 2 * int(rate) + 5, 3 * int(rate) + 10}
    )
]


@pytest.mark.parametrize(("rate", "k"), GRID)
def test_the_tail_matches_a_high_precision_sum(rate: float, k: int) -> None:
    expected = reference_tail(k, rate)
    assert poisson_upper_tail(k, rate) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize(("rate", "k"), [(2.0, 9), (20.0, 41), (20.0, 12), (300.0, 360)])
def test_the_tail_matches_a_sum_of_lgamma_terms(rate: float, k: int) -> None:
    assert poisson_upper_tail(k, rate) == pytest.approx(reference_lgamma(k, rate), rel=1e-11)


@pytest.mark.parametrize(("rate", "k"), [(1e4, 10_000), (1e4, 10_200), (1e4, 10_400)])
def test_large_rates_stay_accurate(rate: float, k: int) -> None:
    assert poisson_upper_tail(k, rate) == pytest.approx(reference_tail(k, rate), rel=1e-9)


def test_known_values() -> None:
    assert poisson_upper_tail(0, 3.0) == 1.0
    assert poisson_upper_tail(-2, 3.0) == 1.0
    assert poisson_upper_tail(1, 1.0) == pytest.approx(1 - math.exp(-1), rel=1e-15)
    assert poisson_upper_tail(1, 0.0) == 0.0
    # One minus e to the -0.5 times the first five terms of its series.
    assert poisson_upper_tail(5, 0.5) == pytest.approx(1.7211562995584071e-04, rel=1e-13)
    assert poisson_upper_tail(1000, 0.5) == 0.0  # underflows


@pytest.mark.parametrize("rate", [-1.0, math.nan, math.inf])
def test_a_bad_rate_is_refused(rate: float) -> None:
    with pytest.raises(InvalidValueError, match="must be a finite number >= 0") as info:
        poisson_upper_tail(3, rate)
    assert info.value.field == "rate"


@given(rate=st.floats(min_value=0.01, max_value=500.0), k=st.integers(0, 800))
def test_the_tail_is_a_decreasing_probability(rate: float, k: int) -> None:
    here = poisson_upper_tail(k, rate)
    after = poisson_upper_tail(k + 1, rate)
    assert 0.0 <= after <= here <= 1.0
    pmf = math.exp(k * math.log(rate) - rate - math.lgamma(k + 1))
    assert here - after == pytest.approx(pmf, rel=1e-9, abs=1e-15)


def test_a_flat_series_has_no_spikes() -> None:
    assert detect_spikes([10] * 100) == []
    assert detect_spikes([0] * 100) == []
    assert detect_spikes([]) == []


def test_a_jump_is_a_spike() -> None:
    spikes = detect_spikes([2] * 10 + [12])
    assert spikes == [
        Spike(index=10, observed=12, expected=2.0, p_value=poisson_upper_tail(12, 2.0))
    ]
    assert spikes[0].p_value < 1e-5


def test_a_silent_baseline_is_floored() -> None:
    (spike,) = detect_spikes([0] * 10 + [5])
    assert spike.expected == 0.0
    assert spike.p_value == poisson_upper_tail(5, MIN_RATE)
    assert detect_spikes([0] * 10 + [4]) == []  # p = 0.0018 is not below 0.001
    assert detect_spikes([0] * 10 + [5], min_count=6) == []


def test_a_point_needs_min_baseline_points_before_it() -> None:
    assert detect_spikes([0] * 6 + [50]) == []
    assert [s.index for s in detect_spikes([0] * 6 + [50], min_baseline=6)] == [6]


def test_the_baseline_is_the_trailing_window_only() -> None:
    series = [100] * 30 + [0] * 28 + [10]
    (spike,) = detect_spikes(series, baseline=28)
    assert (spike.index, spike.expected) == (58, 0.0)
    assert detect_spikes(series, baseline=29) == []  # 100 / 29 in the window: p = 0.003


def test_a_lasting_rise_becomes_the_new_normal() -> None:
    series = [5] * 28 + [30] * 40
    indices = [s.index for s in detect_spikes(series)]
    assert indices[0] == 28
    assert 68 - 1 not in indices


def poisson(rng: random.Random, rate: float) -> int:
    """A Poisson draw by inversion (sequential search)."""
    u = rng.random()
    k = 0
    p = cumulative = math.exp(-rate)
    while u > cumulative:
        k += 1
        p *= rate / k
        cumulative += p
    return k


@pytest.mark.parametrize("rate", [3.0, 20.0, 80.0])
def test_injected_spikes_are_found_in_poisson_noise(rate: float) -> None:
    rng = random.Random(20251125)
    series = [poisson(rng, rate) for _ in range(365)]
    injected = [40, 95, 150, 210, 270, 330]
    jump = max(12, int(8 * math.sqrt(rate)))
    for index in injected:
        series[index] += jump
    found = {s.index for s in detect_spikes(series)}
    assert set(injected) <= found
    false_positives = found - set(injected)
    assert len(false_positives) <= 2


@pytest.mark.parametrize("rate", [2.0, 20.0])
def test_false_positives_stay_near_alpha(rate: float) -> None:
    rng = random.Random(7)
    series = [poisson(rng, rate) for _ in range(20_000)]
    alpha = 0.001
    spikes = detect_spikes(series, alpha=alpha, min_count=0)
    # alpha per point; the estimated baseline makes it ~1.3 alpha in practice.
    assert len(spikes) <= 2 * alpha * len(series)


@pytest.mark.parametrize(
    ("options", "field", "reason"),
    [
        ({"baseline": 0}, "baseline", "must be at least 1"),
        ({"baseline": 2.5}, "baseline", "must be an integer"),
        ({"baseline": True}, "baseline", "must be an integer"),
        ({"min_baseline": 0}, "min_baseline", "must be at least 1"),
        ({"baseline": 5, "min_baseline": 6}, "min_baseline", r"must be at most baseline \(5\)"),
        ({"min_count": -1}, "min_count", "must be at least 0"),
        ({"alpha": 0}, "alpha", "must be a number between 0 and 1"),
        ({"alpha": 1.0}, "alpha", "must be a number between 0 and 1"),
        ({"alpha": math.nan}, "alpha", "must be a number between 0 and 1"),
        ({"alpha": "0.01"}, "alpha", "must be a number between 0 and 1"),
        ({"alpha": True}, "alpha", "must be a number between 0 and 1"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason) as info:
        detect_spikes([1, 2, 3], **options)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("value", "reason"),
    [(-1, "must be at least 0"), (1.5, "must be a count"), ("3", "must be a count")],
)
def test_bad_counts_are_refused(value: object, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason) as info:
        detect_spikes([1, 2, value])  # type: ignore[list-item]
    assert info.value.field == "series.2"
