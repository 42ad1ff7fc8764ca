"""The ``omnichannel`` command line, run as users run it and in-process for coverage."""

from __future__ import annotations

import csv
import importlib
import os
import re
import runpy
import shutil
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from omnichannel import (
    Identifier,
    IngestSummary,
    Interaction,
    MediaPart,
    OrderRefPart,
    Profile,
    TextPart,
)
from omnichannel._cli import (
    Settings,
    describe,
    format_header,
    format_interaction,
    format_summary,
    load_demo_sample,
    main,
    profile_label,
    truncate,
    try_command,
)

CUSTOMERS = [
    "Anna Zielińska",
    "Emily Clarke",
    "John Doe",
    "Jürgen Weiß",
    "Katarzyna Nowak",
    "Zofia Wiśniewska",
    "Łukasz Wójcik",
]
LINE = re.compile(r"^  (\d{4}-\d\d-\d\d \d\d:\d\dZ)  (\S+)\s+(\S+)\s+(\S+)")
SAMPLE_SIZE = len(load_demo_sample())


def _db_url(directory: Path) -> str:
    return f"sqlite:///{(directory / 'demo.db').as_posix()}"


def _script() -> str:
    """The ``omnichannel`` console script installed next to this interpreter."""
    found = shutil.which("omnichannel", path=str(Path(sys.executable).parent))
    assert found, "the omnichannel console script is not installed next to sys.executable"
    return found


def _run(args: list[str], cwd: Path, *, script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [_script()] if script else [sys.executable, "-m", "omnichannel"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1"}
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def _blocks(output: str) -> dict[str, list[str]]:
    """The demo output's profile blocks, keyed by the name in their header."""
    found: dict[str, list[str]] = {}
    for block in output.split("\n\n")[1:]:
        lines = block.splitlines()
        if lines and "(profile " in lines[0]:
            found[lines[0].split("  (profile ")[0]] = lines
    return found


def _timeline_rows(lines: list[str]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for line in lines:
        match = LINE.match(line)
        if match:
            rows.append((match[1], match[2], match[3], match[4]))
    return rows


# --- the real entry points, in subprocesses ------------------------------------------------


@dataclass(frozen=True)
class DemoRuns:
    directory: Path
    url: str
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> DemoRuns:
    directory = tmp_path_factory.mktemp("cli")
    url = _db_url(directory)
    first = _run(["--db", url, "demo"], directory)
    second = _run(["--db", url, "demo"], directory, script=True)
    return DemoRuns(directory, url, first, second)


def test_demo_runs_cleanly(demo_runs: DemoRuns) -> None:
    for run in (demo_runs.first, demo_runs.second):
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""
    assert sorted(p.name for p in demo_runs.directory.iterdir()) == ["demo.db"]


def test_demo_prints_every_customer_once(demo_runs: DemoRuns) -> None:
    output = demo_runs.first.stdout
    first_line = output.splitlines()[0]
    assert first_line.startswith(f"Ingested {SAMPLE_SIZE} interactions: ")
    assert "0 duplicate" in first_line
    blocks = _blocks(output)
    assert sorted(blocks) == sorted(CUSTOMERS)
    for name in CUSTOMERS:
        assert output.count(f"{name}  (profile ") == 1


def test_demo_merges_call_email_and_store_under_one_header(demo_runs: DemoRuns) -> None:
    john = _blocks(demo_runs.first.stdout)["John Doe"]
    assert any("phone:+48601234567" in line and "voice" in line for line in john[1:3])
    assert any("email:john.doe@gmail.com" in line for line in john[1:3])
    rows = _timeline_rows(john)
    channels = {channel for _, channel, _, _ in rows}
    assert {"voice", "email", "store", "sms"} <= channels
    assert ("voice", "inbound", "call") in {(c, d, k) for _, c, d, k in rows}
    assert ("store", "inbound", "order") in {(c, d, k) for _, c, d, k in rows}
    assert [at for at, *_ in rows] == sorted(at for at, *_ in rows)  # oldest first
    # The email from J.O.H.N.Doe+shop@googlemail.com is on John's timeline too.
    assert any("from my other address" in line for line in john)


def test_demo_shows_click_and_collect_and_returns(demo_runs: DemoRuns) -> None:
    blocks = _blocks(demo_runs.first.stdout)
    zofia = _timeline_rows(blocks["Zofia Wiśniewska"])
    assert ("web", "order") in {(c, k) for _, c, _, k in zofia}
    assert ("store", "pickup") in {(c, k) for _, c, _, k in zofia}
    lukasz = blocks["Łukasz Wójcik"]
    assert {"whatsapp", "sms", "web", "store"} <= {c for _, c, _, _ in _timeline_rows(lukasz)}
    assert any("return" in line and "W-10482" in line for line in lukasz)
    kasia = blocks["Katarzyna Nowak"]
    assert any("handle:telegram:kasia_nowak" in line for line in kasia)
    assert any("phone:+48791234567" in line for line in kasia)
    assert any("outbound" in line for line in blocks["Jürgen Weiß"])


def test_second_demo_run_is_all_duplicates_with_identical_timelines(demo_runs: DemoRuns) -> None:
    first = demo_runs.first.stdout.splitlines()
    second = demo_runs.second.stdout.splitlines()
    assert second[0] == (
        f"Ingested {SAMPLE_SIZE} interactions: 0 created, 0 attached, 0 merged, "
        f"{SAMPLE_SIZE} duplicate"
    )
    assert first[1:] == second[1:]


def test_timeline_finds_a_national_phone_number_with_region(demo_runs: DemoRuns) -> None:
    run = _run(
        ["--db", demo_runs.url, "--region", "PL", "timeline", "601 234 567"],
        demo_runs.directory,
        script=True,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("John Doe  (profile ")
    rows = _timeline_rows(lines)
    assert len(rows) == 10
    assert [at for at, *_ in rows] == sorted((at for at, *_ in rows), reverse=True)


def test_timeline_finds_a_gmail_address_written_with_dots(demo_runs: DemoRuns) -> None:
    run = _run(
        ["--db", demo_runs.url, "timeline", "J.O.H.N.D.O.E@GoogleMail.com", "--limit", "3"],
        demo_runs.directory,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("John Doe  (profile ")
    assert len(_timeline_rows(lines)) == 3
    assert "older interactions not shown" in lines[-1]


def test_timeline_of_an_unknown_identifier_exits_1(demo_runs: DemoRuns) -> None:
    run = _run(["--db", demo_runs.url, "timeline", "nobody@example.org"], demo_runs.directory)
    assert run.returncode == 1
    assert run.stdout == ""
    assert "no customer has the identifier email:nobody@example.org" in run.stderr


def test_invalid_identifier_is_a_clean_error(demo_runs: DemoRuns) -> None:
    run = _run(["--db", demo_runs.url, "timeline", "???"], demo_runs.directory, script=True)
    assert run.returncode == 1
    assert run.stderr.startswith("Error: ")
    assert "Traceback" not in run.stderr + run.stdout


# --- in-process, for coverage ---------------------------------------------------------------


def _invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, prog_name="omnichannel")


def test_in_process_demo_and_timeline(tmp_path: Path) -> None:
    url = _db_url(tmp_path)
    first = _invoke(["--db", url, "--workspace", "shop-pl", "demo"])
    assert first.exit_code == 0, first.output
    assert all(f"{name}  (profile " in first.stdout for name in CUSTOMERS)
    assert f"--db {url} --workspace shop-pl --region PL timeline" in first.stdout
    second = _invoke(["--db", url, "--workspace", "shop-pl", "demo"])
    assert second.exit_code == 0, second.output
    assert f"{SAMPLE_SIZE} duplicate" in second.stdout.splitlines()[0]
    assert first.stdout.splitlines()[1:] == second.stdout.splitlines()[1:]

    found = _invoke(["--db", url, "--workspace", "shop-pl", "timeline", "telegram:@KASIA_NOWAK"])
    assert found.exit_code == 0, found.output
    assert found.stdout.startswith("Katarzyna Nowak  (profile ")
    assert "older interactions not shown" not in found.stdout
    order_id = _invoke(
        ["--db", url, "--workspace", "shop-pl", "timeline", "W-10482", "--limit", "2"]
    )
    assert order_id.exit_code == 1  # an order id is not a customer identifier
    limited = _invoke(
        ["--db", url, "--workspace", "shop-pl", "timeline", "lukasz.wojcik@wp.pl", "--limit", "2"]
    )
    assert limited.exit_code == 0, limited.output
    assert len(_timeline_rows(limited.stdout.splitlines())) == 2
    assert limited.stdout.splitlines()[-1].endswith("(more than --limit 2)")

    # Another workspace sees nothing of it.
    other = _invoke(["--db", url, "timeline", "telegram:@kasia_nowak"])
    assert other.exit_code == 1
    assert "Error: no customer has the identifier handle:telegram:kasia_nowak" in other.output


def test_demo_reads_the_sample_as_polish_whatever_the_region(tmp_path: Path) -> None:
    result = _invoke(["--db", _db_url(tmp_path), "--region", "DE", "demo"])
    assert result.exit_code == 0, result.output
    assert "John Doe  (profile " in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["timeline", "???"], "Error: identifier: is not a phone, an email"),
        (["timeline", "601 234 567"], "Error: phone: has no country code"),
        (["--region", "XX", "timeline", "a@b.pl"], "Error: default_region: not a region"),
        (["--workspace", "no spaces", "demo"], "Error: workspace: must be 1-64 characters"),
        (["timeline", "a@b.pl", "--limit", "0"], "Invalid value for '--limit'"),
    ],
)
def test_errors_are_clean(tmp_path: Path, args: list[str], message: str) -> None:
    result = _invoke(["--db", _db_url(tmp_path), *args])
    assert result.exit_code in (1, 2)
    assert isinstance(result.exception, SystemExit)
    assert message in result.output
    assert "Traceback" not in result.output


def test_help_and_version() -> None:
    helped = _invoke(["--help"])
    assert helped.exit_code == 0
    assert "demo" in helped.stdout
    assert "timeline" in helped.stdout
    versioned = _invoke(["--version"])
    assert versioned.exit_code == 0
    assert versioned.stdout.startswith("omnichannel, version ")


def test_python_dash_m_runs_the_group(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    importlib.import_module("omnichannel.__main__")  # importing it runs nothing
    monkeypatch.setattr(sys, "argv", ["omnichannel", "--help"])
    monkeypatch.delitem(sys.modules, "omnichannel.__main__")  # runpy warns if it is there
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("omnichannel", run_name="__main__")
    assert exit_info.value.code == 0
    assert "Usage: omnichannel" in capsys.readouterr().out


# --- formatting helpers ------------------------------------------------------------------------


def _interaction(**fields: object) -> Interaction:
    base: dict[str, object] = {
        "channel": "voice",
        "kind": "call",
        "occurred_at": "2026-11-03T15:05:00+01:00",
        "identifiers": [{"kind": "phone", "value": "+48601234567"}],
    }
    return Interaction.model_validate({**base, **fields})


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("a b c d e f g", 8) == "a b c..."
    assert truncate("abcdef", 3) == "abc"
    assert truncate("abcdef", 0) == ""
    assert len(truncate("x" * 200)) == 70


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"metadata": {"duration_seconds": 252}, "content": [TextPart(text="Asked\n about")]},
            "[4:12] Asked about",
        ),
        ({"metadata": {"duration_seconds": 59.6}}, "[1:00]"),
        ({"metadata": {"duration_seconds": True}}, ""),
        ({"metadata": {"duration_seconds": "252"}}, ""),
        ({"metadata": {"duration_seconds": -1}}, ""),
        ({"metadata": {"duration_seconds": float("inf")}}, ""),
        (
            {
                "content": [
                    OrderRefPart(order_id="W-1", amount=Decimal("129.90"), currency="PLN"),
                    OrderRefPart(order_id="W-2", amount=Decimal("5"), status="paid"),
                    TextPart(text="Click & collect"),
                ]
            },
            "order W-1 129.90 PLN; order W-2 5 (paid) - Click & collect",
        ),
        ({"content": [MediaPart(media_type="image/jpeg", name="a.jpg")]}, "[image/jpeg a.jpg]"),
    ],
)
def test_describe(fields: dict[str, object], expected: str) -> None:
    assert describe(_interaction(**fields)) == expected


def test_format_interaction_uses_utc() -> None:
    line = format_interaction(_interaction(content=[TextPart(text="Hello")]))
    assert line == "  2026-11-03 14:05Z  voice     inbound   call        Hello"


def test_profile_label_and_header() -> None:
    at = "2026-11-03T14:05:00Z"
    bare = Profile.model_validate({"created_at": at, "updated_at": at})
    assert profile_label(bare) == "(no identifiers)"
    assert format_header(bare) == f"(no identifiers)  (profile {bare.id})"
    entry = {
        "identifier": Identifier.handle("telegram", "@Jan"),
        "first_seen": at,
        "last_seen": at,
        "channel": "telegram",
    }
    handle_only = Profile.model_validate(
        {"created_at": at, "updated_at": at, "identifiers": [entry]}
    )
    assert profile_label(handle_only) == "handle:telegram:jan"
    assert format_header(handle_only).splitlines()[1] == (
        "    handle:telegram:jan  first seen on telegram, 2026-11-03"
    )


def test_format_summary_and_try_command() -> None:
    assert format_summary(IngestSummary(total=1, created=1)) == (
        "Ingested 1 interaction: 1 created, 0 attached, 0 merged, 0 duplicate"
    )
    default = Settings(database_url="sqlite:///omnichannel.db", workspace="default", region=None)
    assert try_command(default) == "omnichannel --region PL timeline '601 234 567'"


# --- report -----------------------------------------------------------------------------


def test_report_channel_mix_from_the_real_entry_point(demo_runs: DemoRuns, tmp_path: Path) -> None:
    out = tmp_path / "mix.csv"
    done = _run(
        ["--db", demo_runs.url, "report", "channel-mix", "--csv", str(out)],
        demo_runs.directory,
        script=True,
    )
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()[:-1]
    assert header.split() == ["channel", "interactions", "share", "customers", "customer_share"]
    assert {row.split()[0] for row in rows} >= {"email", "sms", "whatsapp", "store", "web"}
    with out.open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert sum(float(r["share"]) for r in written) == pytest.approx(1)


@pytest.mark.parametrize(
    ("name", "first_column"),
    [
        ("volume", "channel"),
        ("volume-over-time", "period_start"),
        ("topics", "period_start"),
        ("response-times", "channel"),
        ("channels-per-customer", "channels"),
        ("journeys", "path"),
        ("fulfilment", "channel"),
    ],
)
def test_every_report_prints_a_table(demo_runs: DemoRuns, name: str, first_column: str) -> None:
    result = _invoke(["--db", demo_runs.url, "report", name, "--tz", "Europe/Warsaw"])
    assert result.exit_code == 0, result.output
    assert result.output.split()[0] == first_column


def test_report_period_filters_and_charts(demo_runs: DemoRuns, tmp_path: Path) -> None:
    chart = tmp_path / "volume.svg"
    result = _invoke(
        ["--db", demo_runs.url, "report", "volume", "--chart", str(chart), "--since", "2001-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert chart.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    empty = _invoke(["--db", demo_runs.url, "report", "spikes", "--until", "2001-01-01"])
    assert "No data in this period." in empty.output
    bad = _invoke(["--db", demo_runs.url, "report", "volume", "--tz", "Mars/Olympus"])
    assert bad.exit_code != 0
    assert "unknown time zone" in bad.output
