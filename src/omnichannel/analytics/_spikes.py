"""Spike detection: a one-sided Poisson test of each count against its trailing mean.

The Poisson upper tail is computed in pure Python (no scipy) from the regularized
incomplete gamma function, ``P(X >= k) = P(k, rate)``, by one of two sums of positive
terms, each in log space for its prefactor, so that neither cancels nor overflows:

* when ``rate < k + 1`` the tail is small or moderate: the series
  ``P(k, x) = x**k e**-x / k! * (1 + x/(k+1) + x**2/((k+1)(k+2)) + ...)``;
* otherwise the tail is at least about one half: ``1 - P(X <= k - 1)``, the finite sum of
  the lower terms taken downwards from ``k - 1``, where they are largest.

Both sums stop when a term no longer changes the total. The relative error is a few units
in the last place for everyday counts and grows with ``lgamma``'s absolute error for huge
ones (about 1e-9 at a rate of a million).
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Sequence

from omnichannel._errors import InvalidValueError
from omnichannel.analytics._common import Row, check_int

__all__ = ["MIN_RATE", "Spike", "detect_spikes", "poisson_upper_tail"]

MIN_RATE = 0.5
"""The smallest rate the test uses: a trailing mean below it (a topic that was silent) is
raised to it, so that a first handful of mentions is not infinitely surprising."""

_STOP = 1e-17  # a term smaller than this fraction of the total no longer changes it


class Spike(Row):
    """A point of a series that is improbably high given the points before it.

    Attributes:
        index: the position of the point in the series.
        observed: its count.
        expected: the mean of the trailing baseline (before flooring at :data:`MIN_RATE`).
        p_value: the probability of a count at least this high under a Poisson distribution
            with the expected rate (floored at :data:`MIN_RATE`).
    """

    index: int
    observed: int
    expected: float
    p_value: float


def poisson_upper_tail(k: int, rate: float) -> float:
    """``P(X >= k)`` for ``X`` Poisson-distributed with mean ``rate``.

    Args:
        k: the count; ``k <= 0`` gives 1.
        rate: the mean, at least 0 (a rate of 0 puts all mass on 0).

    Returns:
        The probability, in [0, 1]; it underflows to 0.0 below about 1e-308.

    Raises:
        InvalidValueError: a negative or non-finite rate.
    """
    if not math.isfinite(rate) or rate < 0:
        raise InvalidValueError("rate", rate, "must be a finite number >= 0", mask=False)
    if k <= 0:
        return 1.0
    if rate == 0:
        return 0.0
    if rate < k + 1:
        return _upper_series(k, rate)
    return 1.0 - _lower_sum(k, rate)


def _upper_series(k: int, rate: float) -> float:
    # P(k, x) = x**k e**-x / k! * sum_n x**n / ((k+1)...(k+n)); the ratio x/(k+n) < 1.
    term = total = 1.0
    n = k
    while term > total * _STOP:
        n += 1
        term *= rate / n
        total += term
    return math.exp(k * math.log(rate) - rate - math.lgamma(k + 1) + math.log(total))


def _lower_sum(k: int, rate: float) -> float:
    # P(X <= k-1) = sum_{j<k} e**-x x**j / j!, from j = k-1 down: pmf(j-1) = pmf(j) * j / x.
    top = k - 1
    term = total = 1.0
    j = top
    while j > 0 and term > total * _STOP:
        term *= j / rate
        total += term
        j -= 1
    return math.exp(top * math.log(rate) - rate - math.lgamma(top + 1) + math.log(total))


def _check_series(series: Sequence[int]) -> list[int]:
    counts: list[int] = []
    for i, raw in enumerate(series):
        try:
            count = operator.index(raw)  # int, numpy integers; not floats
        except TypeError:
            raise InvalidValueError(
                f"series.{i}", raw, "must be a count (an integer)", mask=False
            ) from None
        if count < 0:
            raise InvalidValueError(f"series.{i}", raw, "must be at least 0", mask=False)
        counts.append(count)
    return counts


def check_spike_options(baseline: int, alpha: float, min_count: int, min_baseline: int) -> None:
    """Check the options of :func:`detect_spikes`.

    Raises:
        InvalidValueError: naming the first bad option.
    """
    check_int("baseline", baseline, 1)
    check_int("min_baseline", min_baseline, 1)
    if min_baseline > baseline:
        raise InvalidValueError(
            "min_baseline", min_baseline, f"must be at most baseline ({baseline})", mask=False
        )
    check_int("min_count", min_count, 0)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InvalidValueError("alpha", alpha, "must be a number between 0 and 1", mask=False)


def detect_spikes(
    series: Sequence[int],
    *,
    baseline: int = 28,
    alpha: float = 0.001,
    min_count: int = 5,
    min_baseline: int = 7,
) -> list[Spike]:
    """Find the points of a count series that are improbably high given the points before.

    The test, for each point ``i`` that has at least ``min_baseline`` points before it:

    * ``expected`` is the mean of the up to ``baseline`` points just before ``i`` (``i``
      itself excluded). Earlier spikes stay in the baseline, so a lasting rise stops being
      a spike after a while: it has become the new normal.
    * ``p_value`` is ``P(X >= observed)`` for ``X ~ Poisson(max(expected, MIN_RATE))``: a
      one-sided test (only rises are spikes). The floor :data:`MIN_RATE` (0.5) keeps a
      silent baseline (mean 0, under which any count would be impossible) from making
      every first mention a spike with p = 0.
    * the point is a spike when ``p_value < alpha`` and ``observed >= min_count``.

    ``alpha`` is the false-positive rate *per point*: there is no correction for testing
    many points (or many topics), so over ``n`` ordinary points about ``alpha * n`` false
    spikes are expected: a little more in fact (about 1.3 times as many with 28 baseline
    points), because the expected value is itself estimated. Counts more dispersed than
    Poisson (weekly seasonality, one customer writing ten times) give more still; prefer
    daily or weekly periods, and keep ``min_count``.

    Args:
        series: counts per period, oldest first (integers >= 0).
        baseline: how many trailing points make the expected value (>= 1).
        alpha: the significance level per point, in (0, 1).
        min_count: the smallest count that can be a spike (>= 0).
        min_baseline: how many trailing points a point needs to be tested
            (1 <= min_baseline <= baseline).

    Returns:
        The spikes, in series order.

    Raises:
        InvalidValueError: a bad option, or a series value that is not a count.
    """
    check_spike_options(baseline, alpha, min_count, min_baseline)
    counts = _check_series(series)
    spikes: list[Spike] = []
    window: deque[int] = deque()
    total = 0
    for index, observed in enumerate(counts):
        if len(window) >= min_baseline and observed >= min_count:
            expected = total / len(window)
            p_value = poisson_upper_tail(observed, max(expected, MIN_RATE))
            if p_value < alpha:
                spikes.append(
                    Spike(index=index, observed=observed, expected=expected, p_value=p_value)
                )
        window.append(observed)
        total += observed
        if len(window) > baseline:
            total -= window.popleft()
    return spikes
