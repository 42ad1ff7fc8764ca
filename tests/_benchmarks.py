"""Running a script of ``benchmarks/`` as a user would, for the tests of its output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def run_benchmark(
    script: str, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> str:
    """Run ``benchmarks/<script>`` with ``args``; assert it succeeded, return its output."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
