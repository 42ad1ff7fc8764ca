"""benchmarks/checkpoints.py runs at a tiny size and prints both ways and their ratios."""

from __future__ import annotations

import re
from pathlib import Path

from tests._benchmarks import run_benchmark


def test_checkpoints_on_the_thread_against_sqlites_own(tmp_path: Path) -> None:
    out = run_benchmark(
        "checkpoints.py",
        *("--interactions", "1500", "--customers", "300"),
        *("--new", "1000", "--per-commit", "100", "--rounds", "1"),
        *("--workdir", str(tmp_path)),
    )
    assert out.startswith("command: python benchmarks/checkpoints.py --interactions 1500")
    rows = re.findall(
        r"^ +1  (inline|background) +([\d,]+)/s +(\d+\.\d{3}) ms +([\d,]+)/s +(\d+\.\d{3}) ms$",
        out,
        flags=re.MULTILINE,
    )
    assert [mode for mode, *_ in rows] == ["inline", "background"], out
    for _, bulk, _, single, _ in rows:
        assert int(bulk.replace(",", "")) > 0
        assert int(single.replace(",", "")) > 0
    assert re.search(r"^  bulk +rate x\d+\.\d\d  time committing x\d+\.\d\d$", out, re.MULTILINE)
    assert re.search(r"^  per-commit +rate x\d+\.\d\d", out, re.MULTILINE)
    assert list(tmp_path.iterdir()) == []  # the files are removed
