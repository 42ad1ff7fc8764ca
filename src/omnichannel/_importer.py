"""Importing CSV and JSON Lines files of contacts or interactions.

Each row becomes an :class:`~omnichannel.Interaction`: a JSON Lines row that already has
the interaction's shape is validated as it is; any other row (a CRM export's contact, a
call log line) is mapped column by column with a :class:`ColumnMapping`. Bad rows are
reported with their row number and reason and the rest is imported. An import is
idempotent (each row's ``source_id`` is stable) and resumable (a checkpoint records the
rows committed, and a re-run skips them).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from omnichannel._errors import InvalidValueError
from omnichannel._hub import Hub, IngestSummary
from omnichannel._model import Interaction

__all__ = ["BadRow", "ColumnMapping", "ImportReport", "import_file", "read_rows", "row_to_mapping"]

_INTERACTION_FIELDS = {"channel", "occurred_at", "identifiers"}
_SIMPLE_TARGETS = {
    "phone",
    "email",
    "occurred_at",
    "channel",
    "kind",
    "direction",
    "source_id",
    "text",
    "topic",
    "agent",
    "first_name",
    "last_name",
    "display_name",
    "ignore",
}
_SYNONYMS = {
    "phone": ("phone", "phone_number", "telephone", "tel", "mobile", "cell", "msisdn", "telefon"),
    "email": ("email", "e-mail", "mail", "email_address", "e_mail"),
    "first_name": ("first_name", "firstname", "given_name", "forename", "imie", "vorname"),
    "last_name": ("last_name", "lastname", "surname", "family_name", "nazwisko", "nachname"),
    "display_name": ("name", "full_name", "display_name", "customer_name"),
    "occurred_at": ("occurred_at", "date", "timestamp", "created_at", "time", "datetime"),
    "channel": ("channel",),
    "kind": ("kind", "type"),
    "direction": ("direction",),
    "source_id": ("source_id", "message_id", "event_id"),
    "text": ("text", "message", "body", "note", "notes", "comment"),
    "topic": ("topic", "topics", "category"),
    "agent": ("agent", "operator", "staff"),
}


class BadRow(BaseModel):
    """A row that was not imported, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    row: int
    """The row number as a person counts it (the CSV header is row 1)."""
    field: str
    reason: str


class ImportReport(BaseModel):
    """What :func:`import_file` did."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    rows: int = 0
    """Rows read (after those skipped by resuming)."""
    skipped: int = 0
    """Rows skipped because a previous run had committed them."""
    summary: IngestSummary = Field(default_factory=IngestSummary)
    bad: tuple[BadRow, ...] = ()


class ColumnMapping(BaseModel):
    """Which column feeds which field.

    Targets: ``phone``, ``email``, ``external:SYSTEM``, ``handle:PLATFORM``,
    ``first_name``, ``last_name``, ``display_name``, ``trait:NAME``, ``occurred_at``,
    ``channel``, ``kind``, ``direction``, ``source_id``, ``text``, ``topic``, ``agent``,
    ``ignore``. Columns not mapped explicitly are matched by common names (``E-mail``,
    ``Telefon``, ``surname`` ...); others are kept as traits.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    columns: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> ColumnMapping:
        """Read ``COLUMN=TARGET`` specifications (as given on the command line).

        Raises:
            InvalidValueError: a malformed specification or an unknown target.
        """
        columns: dict[str, str] = {}
        for spec in specs:
            column, sep, target = spec.partition("=")
            if not sep or not column.strip() or not target.strip():
                raise InvalidValueError("map", spec, "must be COLUMN=TARGET", mask=False)
            columns[column.strip()] = _check_target(target.strip(), spec)
        return cls(columns=columns)

    def target(self, column: str) -> str:
        """The target of ``column``: explicit, by common name, else ``trait:<column>``."""
        explicit = self.columns.get(column)
        if explicit is not None:
            return explicit
        decomposed = unicodedata.normalize("NFKD", column.strip().lower().replace("ł", "l"))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).replace(" ", "_")
        for target, names in _SYNONYMS.items():
            if folded in names:
                return target
        return f"trait:{folded}"


def _check_target(target: str, spec: str) -> str:
    kind, sep, namespace = target.partition(":")
    if target in _SIMPLE_TARGETS or (
        sep and kind in ("external", "handle", "trait") and namespace.strip()
    ):
        return target
    raise InvalidValueError("map", spec, f"has an unknown target {target!r}", mask=False)


def read_rows(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(row number, row)`` from a CSV (header row first) or JSON Lines file.

    A JSON Lines row that is not a JSON object is yielded as ``{"__error__": reason}``.
    """
    kind = fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv")
    if kind == "jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    value = {"__error__": f"is not valid JSON: {exc}"}
                if not isinstance(value, dict):
                    value = {"__error__": "must be a JSON object"}
                yield number, value
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        for number, row in enumerate(csv.DictReader(handle, dialect=dialect), start=2):
            yield number, {k: v for k, v in row.items() if k is not None}


def row_to_mapping(
    row: Mapping[str, Any], mapping: ColumnMapping, *, source: str, default_at: datetime
) -> dict[str, Any]:
    """Turn a flat row into an interaction mapping (validated later by the Hub)."""
    identifiers: list[dict[str, str]] = []
    columns: dict[str, str] = {}  # field path -> the column it came from
    traits: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    topics: list[str] = []
    for column, raw in row.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if value in (None, ""):
            continue
        target = mapping.target(column)
        kind, _, namespace = target.partition(":")
        if target in ("phone", "email"):
            columns[f"identifiers.{len(identifiers)}"] = column
            identifiers.append({"kind": target, "value": str(value)})
        elif kind in ("external", "handle"):
            columns[f"identifiers.{len(identifiers)}"] = column
            identifiers.append({"kind": kind, "namespace": namespace, "value": str(value)})
        elif kind == "trait":
            traits[namespace] = value
        elif target in ("first_name", "last_name", "display_name"):
            traits[target] = value
        elif target == "topic":
            topics.extend(t.strip() for t in str(value).split(",") if t.strip())
        elif target != "ignore":
            columns[target] = column
            fields[target] = value
    text = fields.pop("text", None)
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
    result: dict[str, Any] = {
        "channel": "import",
        "kind": "note",
        "direction": "internal",
        "occurred_at": default_at,
        "source_id": f"{source}:{digest[:24]}",
        **fields,
        "identifiers": identifiers,
        "traits": traits,
        "topics": topics,
    }
    if text:
        result["content"] = [{"type": "text", "text": str(text)}]
    result[_COLUMNS] = columns
    return result


_COLUMNS = "__columns__"


def _column_of(field: str, columns: Mapping[str, str]) -> str:
    """Name the column a failing field came from: ``E-mail (identifiers.0.value)``."""
    for path, column in columns.items():
        if field == path or field.startswith(path + "."):
            return f"{column} ({field})"
    return field


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def import_file(
    hub: Hub,
    path: Path,
    *,
    fmt: str | None = None,
    mapping: ColumnMapping | None = None,
    batch_size: int = 500,
    checkpoint: Path | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``path`` into ``hub``: bad rows are reported, the rest is ingested.

    Rows are ingested ``batch_size`` per transaction. With ``checkpoint``, the number of
    rows committed is recorded after each batch, and a later run on the same unchanged
    file skips them; the checkpoint is removed when the import completes. Without one,
    a re-run is still safe: rows already stored come back as duplicates.

    Raises:
        InvalidValueError: unreadable file or bad options.
        StoreError: the store failed (rows of committed batches stay imported).
    """
    if batch_size < 1:
        raise InvalidValueError("batch_size", batch_size, "must be at least 1", mask=False)
    if not path.is_file():
        raise InvalidValueError("path", str(path), "is not a readable file", mask=False)
    mapping = mapping or ColumnMapping()
    fingerprint = _fingerprint(path)
    done = 0
    if checkpoint is not None and checkpoint.exists():
        with checkpoint.open(encoding="utf-8") as handle:
            saved = json.load(handle)
        if saved.get("file") == fingerprint:
            done = int(saved.get("rows_done", 0))
    default_at = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    source = f"import:{path.name}"
    bad: list[BadRow] = []
    counts = {"total": 0, "created": 0, "attached": 0, "merged": 0, "duplicate": 0}
    batch: list[Interaction] = []
    rows = 0
    last_row = done

    def flush() -> None:
        if batch:
            summary = hub.ingest_many(batch, batch_size=len(batch))
            for key in counts:
                counts[key] += getattr(summary, key)
            batch.clear()
        if checkpoint is not None:
            payload = {"file": fingerprint, "rows_done": last_row}
            tmp = checkpoint.with_suffix(checkpoint.suffix + ".tmp")
            tmp.write_text(json.dumps(payload), encoding="utf-8")
            os.replace(tmp, checkpoint)
        if on_batch is not None:
            on_batch(rows)

    try:
        for ordinal, (number, row) in enumerate(read_rows(path, fmt), start=1):
            if ordinal <= done:
                continue
            rows += 1
            last_row = ordinal
            if "__error__" in row:
                bad.append(BadRow(row=number, field="row", reason=str(row["__error__"])))
            else:
                columns: dict[str, str] = {}
                item = row
                if not row.keys() >= _INTERACTION_FIELDS:
                    item = row_to_mapping(row, mapping, source=source, default_at=default_at)
                    columns = item.pop(_COLUMNS)
                try:
                    batch.append(hub.validate(item))
                except InvalidValueError as exc:
                    field = _column_of(exc.field, columns)
                    bad.append(BadRow(row=number, field=field, reason=exc.reason))
            if len(batch) >= batch_size:
                flush()
        flush()
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidValueError("path", str(path), f"cannot be read: {exc}", mask=False) from exc
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    return ImportReport(rows=rows, skipped=done, summary=IngestSummary(**counts), bad=tuple(bad))
