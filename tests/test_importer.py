"""Importing CSV and JSON Lines: mapping, bad rows, idempotency, resuming; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from omnichannel import Hub, Identifier, InvalidValueError
from omnichannel._cli import main
from omnichannel._importer import ColumnMapping, import_file
from omnichannel.storage import MemoryStore

CSV = (
    "Imię;Nazwisko;E-mail;Telefon;Numer klienta;Notatka\n"
    "Jan;Kowalski;jan.kowalski@gmail.com;601 234 567;C-1;VIP\n"
    "Anna;Nowak;not-an-email;602 345 678;C-2;\n"
    "Jan;Kowalski;J.A.N.Kowalski+promo@googlemail.com;;C-1;\n"
    "Ola;Wiśniewska;;603 456 789;C-3;prefers SMS\n"
)
MAPS = ["Numer klienta=external:shop", "Notatka=text"]


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_csv_contacts_are_mapped_and_bad_rows_reported(contacts: Path) -> None:
    hub = Hub(MemoryStore(), default_region="PL")
    report = import_file(hub, contacts, mapping=ColumnMapping.parse(MAPS), batch_size=2)
    assert report.rows == 4
    assert [(b.row, b.field) for b in report.bad] == [(3, "E-mail (identifiers.0.value)")]
    assert "valid email" in report.bad[0].reason
    assert report.summary.total == 3
    jan = hub.find(Identifier.email("jankowalski@gmail.com"))  # gmail folding joined rows 2, 4
    assert jan is not None
    assert jan.traits["first_name"] == "Jan"
    assert {str(e.identifier) for e in jan.identifiers} >= {"phone:+48601234567"}
    (note,) = [i for i in hub.history(jan.id) if i.text]
    assert note.text == "VIP"
    assert note.channel == "import"
    again = import_file(hub, contacts, mapping=ColumnMapping.parse(MAPS))
    assert again.summary.duplicate == 3  # idempotent


def test_resuming_skips_committed_rows(contacts: Path, tmp_path: Path) -> None:
    hub = Hub(MemoryStore(), default_region="PL")
    checkpoint = tmp_path / "progress.json"
    stat = contacts.stat()
    fingerprint = f"{contacts.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    checkpoint.write_text(json.dumps({"file": fingerprint, "rows_done": 2}), encoding="utf-8")
    report = import_file(hub, contacts, mapping=ColumnMapping.parse(MAPS), checkpoint=checkpoint)
    assert (report.skipped, report.rows) == (2, 2)
    assert not checkpoint.exists()  # removed once complete
    assert hub.find(Identifier.phone("+48603456789")) is not None
    assert hub.find(Identifier.phone("+48602345678")) is None  # row 3 was skipped


def test_a_checkpoint_of_another_file_is_ignored(contacts: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "progress.json"
    checkpoint.write_text(json.dumps({"file": "other", "rows_done": 3}), encoding="utf-8")
    report = import_file(Hub(MemoryStore(), default_region="PL"), contacts, checkpoint=checkpoint)
    assert report.skipped == 0


def test_jsonl_interactions(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = {
        "channel": "sms",
        "source_id": "SM1",
        "occurred_at": "2026-11-20T10:00:00Z",
        "identifiers": [{"kind": "phone", "value": "+48601234567"}],
    }
    lines = [json.dumps(good), "{broken", "[1, 2]", "", json.dumps({**good, "channel": "X!"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_file(Hub(MemoryStore()), path)
    assert report.summary.created == 1
    assert [(b.row, b.field) for b in report.bad] == [(2, "row"), (3, "row"), (5, "channel")]


@pytest.mark.parametrize(
    ("specs", "message"),
    [(["Phone"], "COLUMN=TARGET"), (["a=fax"], "unknown target"), (["a=external:"], "unknown")],
)
def test_bad_mappings(specs: list[str], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        ColumnMapping.parse(specs)


def test_bad_options(contacts: Path, tmp_path: Path) -> None:
    hub = Hub(MemoryStore())
    with pytest.raises(InvalidValueError, match="batch_size"):
        import_file(hub, contacts, batch_size=0)
    with pytest.raises(InvalidValueError, match="readable file"):
        import_file(hub, tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InvalidValueError, match="cannot be read"):
        import_file(hub, binary)


def test_cli_import_explain_reviews(contacts: Path, tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.db'}", "--region", "PL"]
    runner = CliRunner()
    maps = [arg for spec in MAPS for arg in ("--map", spec)]
    done = runner.invoke(main, [*db, "import", str(contacts), *maps])
    assert done.exit_code == 0, done.output
    assert "row 3: E-mail" in done.output
    assert "Read 4 rows: 1 bad." in done.output
    assert not contacts.with_name(contacts.name + ".omnichannel-progress").exists()
    explained = runner.invoke(main, [*db, "explain", "601 234 567"])
    assert explained.exit_code == 0
    assert "holds 3 identifier(s)" in explained.output
    missing = runner.invoke(main, [*db, "explain", "+48 699 999 999"])
    assert missing.exit_code == 1
    assert "no profile or identifier" in missing.output
    listed = runner.invoke(main, [*db, "reviews", "--all"])
    assert listed.exit_code == 0
    assert "No review items." in listed.output
