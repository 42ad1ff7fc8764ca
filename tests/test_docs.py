"""Every Python code block in the README and docs/ runs; blocks of one page run in order,
in one working directory, as a reader following the page would run them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
WITH_CODE = [page for page in PAGES if BLOCK.search(page.read_text(encoding="utf-8"))]


def test_docs_have_code() -> None:
    assert len(WITH_CODE) >= 5


@pytest.mark.parametrize("page", WITH_CODE, ids=[str(p.relative_to(ROOT)) for p in WITH_CODE])
def test_page_code_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for n, match in enumerate(BLOCK.finditer(page.read_text(encoding="utf-8"))):
        where = f"{page.relative_to(ROOT)}#{n}"
        exec(compile(match.group(1), where, "exec"), {"__name__": "__docs__"})
