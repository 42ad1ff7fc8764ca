"""The ``omnichannel`` command line: load the demo sample, look a customer up.

::

    omnichannel demo                                  # load the bundled sample, print it
    omnichannel --region PL timeline "601 234 567"    # one customer, newest first
    omnichannel --db postgresql://... --workspace shop-pl timeline john.doe@gmail.com

Every :class:`~omnichannel.OmnichannelError` a command raises is printed as
``Error: <message>`` on stderr with exit status 1, never as a traceback.
"""

from __future__ import annotations

import csv
import json
import math
import shlex
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from importlib.resources import files
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from click.termui import progressbar

from omnichannel._errors import NotFoundError, OmnichannelError
from omnichannel._hub import DEFAULT_DATABASE_URL, Hub, IngestSummary, parse_identifier
from omnichannel._importer import ColumnMapping, import_file, read_rows
from omnichannel._model import Interaction, OrderRefPart, Profile
from omnichannel.resolution import dedupe, explain_score

__all__ = [
    "SAMPLE_REGION",
    "TEXT_WIDTH",
    "Settings",
    "describe",
    "format_header",
    "format_interaction",
    "format_summary",
    "load_demo_sample",
    "main",
    "profile_label",
    "truncate",
    "try_command",
]

SAMPLE_REGION = "PL"
"""The region the bundled sample's national-format phone numbers are written for."""

TEXT_WIDTH = 70
"""How many characters of an interaction's text a timeline line shows."""

_CHANNEL_WIDTH = 9
_DIRECTION_WIDTH = 9
_KIND_WIDTH = 11


@dataclass(frozen=True)
class Settings:
    """The group's options, shared with every command through ``ctx.obj``.

    Attributes:
        database_url: where the data lives (``--db``).
        workspace: the tenant to read and write (``--workspace``).
        region: the region national-format phone numbers are read with (``--region``).
    """

    database_url: str
    workspace: str
    region: str | None

    def open_hub(self, default_region: str | None = None) -> Hub:
        """Open a :class:`~omnichannel.Hub` on these settings.

        Args:
            default_region: the region to use when ``--region`` was not given.

        Raises:
            OmnichannelError: bad workspace or region, or the store cannot be opened.
        """
        return Hub(
            self.database_url,
            workspace=self.workspace,
            default_region=self.region or default_region,
        )


class _Group(click.Group):
    """A click group that turns library errors into clean ``Error: ...`` messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OmnichannelError as exc:
            raise click.ClickException(str(exc)) from exc


# --- formatting ------------------------------------------------------------------------


def truncate(text: str, width: int = TEXT_WIDTH) -> str:
    """Return ``text`` cut to at most ``width`` characters, marked with ``...`` if cut."""
    if len(text) <= width:
        return text
    if width <= 3:
        return text[: max(width, 0)]
    return text[: width - 3].rstrip() + "..."


def _duration(interaction: Interaction) -> str | None:
    seconds = interaction.metadata.get("duration_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    minutes, rest = divmod(round(seconds), 60)
    return f"[{minutes}:{rest:02d}]"


def _order(part: OrderRefPart) -> str:
    text = f"order {part.order_id}"
    if part.amount is not None:
        text += f" {part.amount}" + (f" {part.currency}" if part.currency else "")
    if part.status:
        text += f" ({part.status})"
    return text


def describe(interaction: Interaction, width: int = TEXT_WIDTH) -> str:
    """Describe an interaction in one line of at most ``width`` characters.

    A call starts with its duration (``[4:12]``, from ``metadata["duration_seconds"]``),
    an order reference with its id, amount and status; then comes the text with its
    whitespace collapsed, or, without text, a short description of the other parts.

    Args:
        interaction: the interaction to describe.
        width: the most characters to return.

    Returns:
        The description, possibly empty.
    """
    duration = _duration(interaction)
    orders = [_order(part) for part in interaction.content if isinstance(part, OrderRefPart)]
    text = " ".join(interaction.text.split())
    if not text and not orders:
        text = interaction.summary
    body = " - ".join(piece for piece in ("; ".join(orders), text) if piece)
    line = " ".join(piece for piece in (duration, body) if piece)
    return truncate(line, width)


def format_interaction(interaction: Interaction) -> str:
    """One timeline line: time (UTC), channel, direction, kind and a description.

    Example: ``  2026-11-03 14:05Z  whatsapp  inbound   message     Is my order ready?``
    """
    when = interaction.occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%MZ")
    line = (
        f"  {when}  {interaction.channel:<{_CHANNEL_WIDTH}} "
        f"{interaction.direction.value:<{_DIRECTION_WIDTH}} "
        f"{interaction.kind:<{_KIND_WIDTH}} {describe(interaction)}"
    )
    return line.rstrip()


def profile_label(profile: Profile) -> str:
    """The name to show for a profile: its display name, else its first identifier."""
    if profile.display_name:
        return profile.display_name
    if profile.identifiers:
        return str(profile.identifiers[0].identifier)
    return "(no identifiers)"


def format_header(profile: Profile) -> str:
    """A profile's header: its label and id, then one line per identifier.

    Each identifier is written as ``omnichannel timeline`` accepts it, with the channel
    and the day it was first seen on.
    """
    lines = [f"{profile_label(profile)}  (profile {profile.id})"]
    shown = [str(entry.identifier) for entry in profile.identifiers]
    width = max((len(text) for text in shown), default=0)
    for text, entry in zip(shown, profile.identifiers, strict=True):
        day = entry.first_seen.astimezone(timezone.utc).strftime("%Y-%m-%d")
        lines.append(f"    {text:<{width}}  first seen on {entry.channel}, {day}")
    return "\n".join(lines)


def format_summary(summary: IngestSummary) -> str:
    """One line saying what :meth:`~omnichannel.Hub.ingest_many` did."""
    noun = "interaction" if summary.total == 1 else "interactions"
    return (
        f"Ingested {summary.total} {noun}: {summary.created} created, "
        f"{summary.attached} attached, {summary.merged} merged, "
        f"{summary.duplicate} duplicate"
    )


def _sort_key(profile: Profile) -> tuple[str, str]:
    return (profile_label(profile).casefold(), profile.id)


# --- the bundled sample ------------------------------------------------------------------


def load_demo_sample() -> list[Interaction]:
    """Read the bundled sample (``omnichannel/_data/demo.jsonl``) into interactions.

    National-format phone numbers in it are read as :data:`SAMPLE_REGION` numbers,
    whatever region the command line was given.
    """
    text = files("omnichannel._data").joinpath("demo.jsonl").read_text(encoding="utf-8")
    context = {"default_region": SAMPLE_REGION}
    return [
        Interaction.model_validate(json.loads(line), context=context)
        for line in text.splitlines()
        if line.strip()
    ]


def try_command(settings: Settings) -> str:
    """The ``timeline`` command line to try after ``demo``, with the same options."""
    words = ["omnichannel"]
    if settings.database_url != DEFAULT_DATABASE_URL:
        words += ["--db", settings.database_url]
    if settings.workspace != "default":
        words += ["--workspace", settings.workspace]
    words += ["--region", "PL", "timeline", "601 234 567"]
    return shlex.join(words)


def _echo_timeline(interactions: Iterable[Interaction]) -> None:
    for interaction in interactions:
        click.echo(format_interaction(interaction))


# --- commands ----------------------------------------------------------------------------


@click.group(cls=_Group)
@click.option(
    "--db",
    "database_url",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    metavar="URL",
    help="Database URL (sqlite:///path.db, postgresql://...) or a SQLite file path.",
)
@click.option(
    "--workspace",
    default="default",
    show_default=True,
    help="The tenant to read and write.",
)
@click.option(
    "--region",
    default=None,
    metavar="CC",
    help="Country code (PL, DE, GB ...) to read phone numbers written without +.",
)
@click.version_option(package_name="omnichannel", prog_name="omnichannel")
@click.pass_context
def main(ctx: click.Context, database_url: str, workspace: str, region: str | None) -> None:
    """One customer and one history across every channel."""
    ctx.obj = Settings(database_url=database_url, workspace=workspace, region=region)


@main.command()
@click.pass_obj
def demo(settings: Settings) -> None:
    """Load a sample shop's customers and print each one's unified timeline.

    The sample mixes calls, email, SMS, WhatsApp, Telegram, web chat, web orders and
    in-store orders, pickups and returns of seven customers. Running it again is
    harmless: everything is recognised as a duplicate.
    """
    sample = load_demo_sample()
    with settings.open_hub(default_region=SAMPLE_REGION) as hub:
        summary = hub.ingest_many(sample)
        click.echo(format_summary(summary))
        for profile in sorted(hub.profiles(), key=_sort_key):
            click.echo()
            click.echo(format_header(profile))
            history = list(hub.history(profile.id))
            _echo_timeline(reversed(history))
        click.echo()
        click.echo(f"Look a customer up: {try_command(settings)}")


@main.command()
@click.argument("identifier")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="How many of the newest interactions to show.",
)
@click.pass_obj
def timeline(settings: Settings, identifier: str, limit: int) -> None:
    """Show the customer IDENTIFIER belongs to and their timeline, newest first.

    IDENTIFIER is a phone number (national formats need --region), an email address,
    platform:handle (telegram:@jan) or kind:value (external:loyalty:PL-LOY-004512).
    """
    with settings.open_hub() as hub:
        wanted = parse_identifier(identifier, region=hub.default_region)
        profile = hub.find(wanted)
        if profile is None:
            raise click.ClickException(f"no customer has the identifier {wanted}")
        page = hub.timeline(profile.id, limit=limit)
        click.echo(format_header(profile))
        _echo_timeline(page.items)
        if page.next_cursor is not None:
            click.echo(f"  ... older interactions not shown (more than --limit {limit})")


def _resolve_profile(hub: Hub, ref: str) -> Profile:
    """A profile by id, else by identifier."""
    try:
        return hub.profile(ref)
    except NotFoundError:
        pass
    profile = hub.find(parse_identifier(ref, region=hub.default_region))
    if profile is None:
        raise click.ClickException(f"no profile or identifier {ref!r}")
    return profile


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    help="File format; by default from the extension (.jsonl, .ndjson, .json: JSON Lines).",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=TARGET",
    help="Map a column: phone, email, external:SYSTEM, handle:PLATFORM, first_name, "
    "last_name, display_name, trait:NAME, occurred_at, channel, kind, direction, "
    "source_id, text, topic, agent, ignore. Repeatable.",
)
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--checkpoint/--no-checkpoint",
    default=True,
    show_default=True,
    help="Record progress beside the file so an interrupted import resumes.",
)
@click.pass_obj
def import_command(
    settings: Settings,
    path: Path,
    fmt: str | None,
    maps: tuple[str, ...],
    batch_size: int,
    checkpoint: bool,
) -> None:
    """Import contacts or interactions from a CSV or JSON Lines file.

    Rows that do not validate are reported with their row number and reason; the rest is
    imported. Re-running the same file is safe: stored rows count as duplicates.
    """
    mapping = ColumnMapping.parse(maps)
    progress_file = path.with_name(path.name + ".omnichannel-progress") if checkpoint else None
    with path.open("rb") as handle:
        total = sum(1 for line in handle if line.strip())
    with (
        settings.open_hub() as hub,
        progressbar(length=total, label=f"Importing {path.name}", file=sys.stderr) as bar,
    ):
        seen = 0

        def advance(rows: int) -> None:
            nonlocal seen
            bar.update(rows - seen)
            seen = rows

        report = import_file(
            hub,
            path,
            fmt=fmt,
            mapping=mapping,
            batch_size=batch_size,
            checkpoint=progress_file,
            on_batch=advance,
        )
    for bad in report.bad:
        click.echo(f"row {bad.row}: {bad.field}: {bad.reason}", err=True)
    resumed = f" (resumed: {report.skipped} rows done before)" if report.skipped else ""
    click.echo(f"Read {report.rows} rows{resumed}: {len(report.bad)} bad.")
    click.echo(format_summary(report.summary))


@main.command()
@click.argument("ref")
@click.pass_obj
def explain(settings: Settings, ref: str) -> None:
    """Explain a profile (REF: a profile id or an identifier): its identifiers, merges
    with their evidence, and open review items."""
    with settings.open_hub() as hub:
        explanation = hub.explain(_resolve_profile(hub, ref).id)
        click.echo(explanation.text)


@main.command()
@click.option("--all", "show_all", is_flag=True, help="Include decided items.")
@click.pass_obj
def reviews(settings: Settings, show_all: bool) -> None:
    """List the review queue: pairs of profiles the resolver would not decide alone."""
    with settings.open_hub() as hub:
        items = hub.reviews(None if show_all else "open")
        if not items:
            click.echo("No review items.")
        for item in items:
            first, second = item.profile_ids
            click.echo(f"{item.id}  {item.status.value:<8} {item.grade.value:<9} {first} {second}")
            click.echo(f"    {item.reason}")


@main.command("dedupe")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="Where to write one row per record: id, cluster id, reason.",
)
@click.option("--id-column", help="The column holding each record's id (default: row number).")
@click.option("--seed", default=0, show_default=True, help="Seed for training (deterministic).")
def dedupe_command(path: Path, output: Path, id_column: str | None, seed: int) -> None:
    """Find the records of a CRM export (CSV) that are one person.

    Comparisons are inferred from the column names (first_name, surname, date_of_birth,
    email, phone, address, postcode ...) and trained on the file itself, without labels.
    The output has one row per record with its cluster id (records alone get their own)
    and the reason: the strongest link that put it in its cluster.
    """
    records = [row for _, row in read_rows(path, "csv")]
    if not records:
        raise click.ClickException(f"{path} has no rows")
    result = dedupe(records, id_field=id_column, seed=seed)
    ids = (
        [str(r[id_column]) for r in records] if id_column else [str(n) for n in range(len(records))]
    )
    cluster_of: dict[str, str] = {}
    reason_of: dict[str, str] = {}
    for cluster in result.clusters:
        label = cluster.ids[0]
        for pair in sorted(cluster.pairs, key=lambda p: -p.score.probability):
            for member in (pair.first_id, pair.second_id):
                reason_of.setdefault(member, explain_score(pair.score))
        for member in cluster.ids:
            cluster_of[member] = label
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "cluster_id", "cluster_size", "reason"])
        sizes = {c.ids[0]: len(c.ids) for c in result.clusters}
        for record_id in ids:
            label = cluster_of.get(record_id, record_id)
            reason = reason_of.get(record_id, "no other record scored above the link threshold")
            writer.writerow([record_id, label, sizes.get(label, 1), reason])
    if len(records) < 500:
        click.echo(
            f"note: {len(records)} records give the unsupervised training little to learn "
            "from; links are conservative on small files",
            err=True,
        )
    duplicates = sum(len(c.ids) - 1 for c in result.clusters)
    click.echo(
        f"{len(records)} records: {len(result.clusters)} clusters of the same person "
        f"({duplicates} duplicates), {len(result.review)} pairs to review; "
        f"{result.candidate_pairs} candidate pairs scored. Wrote {output}."
    )


REPORTS = (
    "volume",
    "volume-over-time",
    "topics",
    "spikes",
    "response-times",
    "channel-mix",
    "channels-per-customer",
    "journeys",
    "fulfilment",
)


def _report_rows(
    hub: Hub, name: str, since: datetime | None, until: datetime | None, tz: str, period: str
) -> list[Any]:
    from omnichannel import analytics  # reports load only when asked for

    records = hub.scan(since=since, until=until)
    period_ = cast("analytics.Period", period)
    if name == "volume":
        return analytics.volume(records, tz=tz)
    if name == "volume-over-time":
        return analytics.volume_over_time(records, period=period_, tz=tz)
    if name == "topics":
        return analytics.topic_counts(records, period=period_, tz=tz)
    if name == "spikes":
        return analytics.topic_spikes(records, period=period_, tz=tz)
    if name == "response-times":
        return analytics.response_times(hub.scan_conversations(since=since, until=until))
    if name == "channel-mix":
        return analytics.channel_mix(records)
    if name == "channels-per-customer":
        return analytics.channels_per_customer(records)
    if name == "journeys":
        return analytics.journeys(records)
    return analytics.fulfilment(records)


def _cell(value: object) -> str:
    if isinstance(value, tuple):
        return " > ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return "" if value is None else str(value)


def _echo_rows(rows: list[Any]) -> None:
    if not rows:
        click.echo("No data in this period.")
        return
    fields = list(type(rows[0]).model_fields)
    table = [fields] + [[_cell(getattr(row, f)) for f in fields] for row in rows]
    widths = [max(len(line[n]) for line in table) for n in range(len(fields))]
    for line in table:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@main.command()
@click.argument("name", type=click.Choice(REPORTS))
@click.option("--since", type=click.DateTime(), help="From this day or time (inclusive).")
@click.option("--until", type=click.DateTime(), help="Up to this day or time (exclusive).")
@click.option("--tz", default="UTC", show_default=True, help="Time zone of hours and days.")
@click.option(
    "--period",
    type=click.Choice(["hour", "day", "week", "month"]),
    default="day",
    show_default=True,
    help="Bucket of the reports over time.",
)
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="Also write a CSV.")
@click.option(
    "--chart",
    type=click.Path(path_type=Path),
    help="Also draw a chart (.png or .svg; needs: pip install 'omnichannel[plot]').",
)
@click.pass_obj
def report(
    settings: Settings,
    name: str,
    since: datetime | None,
    until: datetime | None,
    tz: str,
    period: str,
    csv_path: Path | None,
    chart: Path | None,
) -> None:
    """Print a report per channel or topic: volume by hour and weekday, topic counts and
    spikes, response times, channel mix, journeys before orders, click & collect.

    --since and --until are read in the --tz time zone.
    """
    from omnichannel import analytics

    zone = _zone(tz)
    start, end = (None if t is None else t.replace(tzinfo=zone) for t in (since, until))
    with settings.open_hub() as hub:
        rows = _report_rows(hub, name, start, end, tz, period)
    _echo_rows(rows)
    if csv_path is not None:
        analytics.to_csv(rows, csv_path)
        click.echo(f"CSV written to {csv_path}")
    if chart is not None and rows:
        analytics.plot(rows, chart, title=f"{name} ({settings.workspace})")
        click.echo(f"Chart written to {chart}")


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from None
