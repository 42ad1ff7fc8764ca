"""benchmarks/synthetic.py runs end to end at a small size and prints every figure."""

from __future__ import annotations

import re

from tests._benchmarks import run_benchmark

_RATES = r"over-merge (\d+\.\d+) %  under-merge +(\d+\.\d+) %"


def test_the_synthetic_benchmark_prints_ours_the_baseline_and_both_ceilings() -> None:
    out = run_benchmark("synthetic.py", "--customers", "150", "--seed", "3", timeout=300)
    rates = {}
    for label in (
        "omnichannel",
        "baseline: one profile per identifier set",
        "ceiling: identifier evidence",
        "ceiling: identifier evidence + any name",
    ):
        found = re.search(rf"^{re.escape(label)} +{_RATES}", out, re.MULTILINE)
        assert found is not None, (label, out)
        rates[label] = float(found.group(2))
    # the ceilings order as they must: names can only join more
    identifiers = rates["ceiling: identifier evidence"]
    assert rates["ceiling: identifier evidence + any name"] <= identifiers
    assert rates["omnichannel"] < rates["baseline: one profile per identifier set"]
    assert re.search(r"^households merged: \d+ \(\d+ where names", out, re.MULTILINE), out
