"""`omnichannel dedupe` on a CRM export with known duplicates."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from click.testing import CliRunner

from omnichannel._cli import main

FIRST = [
    "Jan",
    "Anna",
    "Piotr",
    "Maria",
    "Tomasz",
    "Katarzyna",
    "Paweł",
    "Agnieszka",
    "Michał",
    "Ewa",
    "Jakub",
    "Zofia",
    "Adam",
    "Marta",
    "Ola",
    "Jürgen",
    "Emily",
    "Oleksandr",
    "Iryna",
]
LAST = [
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Wójcik",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Müller",
    "Schmidt",
    "Clarke",
    "Shevchenko",
    "Mazur",
]
CITIES = [("00-950", "Warszawa"), ("30-001", "Kraków"), ("80-001", "Gdańsk"), ("10115", "Berlin")]


def _export(path: Path, people: int = 600, duplicates: int = 120) -> set[tuple[str, str]]:
    """Write a CRM export; return the true (duplicate, original) id pairs."""
    rng = random.Random(7)
    rows = []
    for n in range(people):
        postcode, city = rng.choice(CITIES)
        rows.append(
            {
                "id": f"c{n}",
                "first_name": rng.choice(FIRST),
                "surname": rng.choice(LAST),
                "date_of_birth": f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                "email": f"user{n}@example.org",
                "phone": f"+4860{rng.randint(1_000_000, 9_999_999)}",
                "postcode": postcode,
                "city": city,
            }
        )
    truth = set()
    for n in range(duplicates):
        original = rows[rng.randrange(people)]
        copy = dict(original, id=f"d{n}")
        name = copy["first_name"]
        if len(name) > 3:  # a typo: two letters swapped
            k = rng.randrange(1, len(name) - 2)
            copy["first_name"] = name[:k] + name[k + 1] + name[k] + name[k + 2 :]
        if n % 2:
            copy["email"] = ""
        rows.append(copy)
        truth.add((copy["id"], original["id"]))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return truth


def test_dedupe_finds_the_duplicates_and_explains_them(tmp_path: Path) -> None:
    export = tmp_path / "contacts.csv"
    truth = _export(export)
    out = tmp_path / "clusters.csv"
    done = CliRunner().invoke(main, ["dedupe", str(export), "--id-column", "id", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert "720 records" in done.output
    with out.open(encoding="utf-8") as handle:
        rows = {row["record_id"]: row for row in csv.DictReader(handle)}
    assert len(rows) == 720
    found = sum(rows[dup]["cluster_id"] == rows[orig]["cluster_id"] for dup, orig in truth)
    assert found >= 0.95 * len(truth)
    originals = {orig for _, orig in truth}
    wrongly_joined = [
        r
        for r in rows.values()
        if r["record_id"].startswith("c")
        and r["record_id"] not in originals
        and r["cluster_size"] != "1"
    ]
    assert not wrongly_joined
    linked = next(r for r in rows.values() if r["cluster_size"] != "1")
    assert linked["reason"].startswith("linked with probability")
    assert "date_of_birth" in linked["reason"]


def test_dedupe_of_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("id,first_name\n", encoding="utf-8")
    done = CliRunner().invoke(main, ["dedupe", str(empty), "-o", str(tmp_path / "o.csv")])
    assert done.exit_code == 1
    assert "has no rows" in done.output
