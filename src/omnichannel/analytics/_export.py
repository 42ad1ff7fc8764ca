"""Report rows out: plain dicts, and CSV files for spreadsheets."""

from __future__ import annotations

import csv
import enum
import os
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TextIO

from pydantic import BaseModel

from omnichannel._errors import InvalidValueError

__all__ = ["PATH_SEPARATOR", "to_csv", "to_records"]

PATH_SEPARATOR = " > "
"""What joins the steps of a tuple (a journey's path) in a CSV cell."""


def to_records(rows: Sequence[BaseModel]) -> list[dict[str, object]]:
    """The rows as plain dicts, field name to value, in field order.

    Values keep their Python types (``datetime``, ``tuple``, ``float``, None), ready for
    ``pandas.DataFrame(to_records(rows))`` or ``json.dumps(..., default=str)``.
    """
    return [row.model_dump() for row in rows]


def to_csv(rows: Sequence[BaseModel], file: str | os.PathLike[str] | TextIO) -> None:
    """Write the rows as CSV: a header of the row type's field names, then one line a row.

    Cells: tuples (journey paths) joined with ``" > "``; datetimes in ISO 8601 with their
    offset; floats as Python prints them (shortest round-trip form, e.g. ``0.25`` or
    ``1e-07``); decimals without exponent; None as an empty cell; booleans as ``true`` /
    ``false``. No rows make an empty file (there is no row type to take a header from).

    Args:
        rows: report rows, all of one type.
        file: a path (written as UTF-8, replaced if it exists) or an open text file (open
            it with ``newline=""``, as the ``csv`` module asks).

    Raises:
        InvalidValueError: rows of more than one type.
    """
    if rows:
        kinds = {type(row) for row in rows}
        if len(kinds) > 1:
            names = ", ".join(sorted(kind.__name__ for kind in kinds))
            raise InvalidValueError("rows", names, "must all be of one type", mask=False)
    if isinstance(file, (str, os.PathLike)):
        with open(file, "w", encoding="utf-8", newline="") as handle:
            _write(rows, handle)
    else:
        _write(rows, file)


def _write(rows: Sequence[BaseModel], handle: TextIO) -> None:
    if not rows:
        return
    fields = list(type(rows[0]).model_fields)
    writer = csv.writer(handle)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in fields])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return PATH_SEPARATOR.join(_cell(item) for item in value)
    return str(value)
