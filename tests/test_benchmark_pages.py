"""benchmarks/pages.py runs at a tiny size and accounts for the pages it counts."""

from __future__ import annotations

import re
from pathlib import Path

from tests._benchmarks import run_benchmark


def test_pages_per_interaction_by_table_and_index(tmp_path: Path) -> None:
    out = run_benchmark(
        "pages.py",
        *("--interactions", "1500", "--customers", "300"),
        *("--batch-size", "100", "--batches", "2", "--top", "40"),
        *("--workdir", str(tmp_path)),
    )
    assert out.startswith("command: python benchmarks/pages.py --interactions 1500")
    total = re.search(r"([\d,]+) pages written, (\d+\.\d\d) per interaction", out)
    assert total is not None, out
    assert float(total.group(2)) > 0
    rows = re.findall(r"^ +(\d+\.\d\d)  (\S.*)$", out, flags=re.MULTILINE)
    assert rows, out
    names = {name for _, name in rows}
    assert "omnichannel_interactions_timeline (leaf)" in names
    assert not any("_origin" in name for name in names)  # schema 6 has no origin index
    # the breakdown accounts for every page counted
    assert abs(sum(float(share) for share, _ in rows) - float(total.group(2))) <= 0.005 * len(rows)
