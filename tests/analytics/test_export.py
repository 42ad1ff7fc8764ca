"""Rows out as dicts and CSV, and back."""

from __future__ import annotations

import csv
import io
import types
import typing
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

from omnichannel import Direction, InvalidValueError
from omnichannel.analytics import (
    JourneyRow,
    ResponseTimeRow,
    TopicSpikeRow,
    to_csv,
    to_records,
)
from tests.analytics._builders import WARSAW


def journeys() -> list[JourneyRow]:
    return [
        JourneyRow(path=("web", "webchat", "web:order", "store:pickup"), orders=3, share=0.75),
        JourneyRow(path=("web:order",), orders=1, share=0.25),
    ]


def spikes() -> list[TopicSpikeRow]:
    return [
        TopicSpikeRow(
            topic="payment problem",
            period_start=datetime(2025, 11, 25, tzinfo=WARSAW),
            observed=14,
            expected=1.5416666666666667,
            p_value=1.234e-09,
        )
    ]


def response() -> list[ResponseTimeRow]:
    return [
        ResponseTimeRow(
            channel="whatsapp",
            conversations=1,
            responded=0,
            first_response_median_s=None,
            first_response_p90_s=None,
            resolved=1,
            resolution_median_s=600.0,
            resolution_p90_s=600.0,
        )
    ]


def test_records_are_plain_dicts_in_field_order() -> None:
    (first, _) = to_records(journeys())
    assert first == {
        "path": ("web", "webchat", "web:order", "store:pickup"),
        "orders": 3,
        "share": 0.75,
    }
    assert list(first) == ["path", "orders", "share"]
    assert to_records([]) == []


def test_csv_cells(tmp_path: Path) -> None:
    target = tmp_path / "journeys.csv"
    to_csv(journeys(), target)
    assert target.read_bytes().decode("utf-8") == (
        "path,orders,share\r\n"
        "web > webchat > web:order > store:pickup,3,0.75\r\n"
        "web:order,1,0.25\r\n"
    )
    buffer = io.StringIO(newline="")
    to_csv(spikes(), buffer)
    assert buffer.getvalue().splitlines() == [
        "topic,period_start,observed,expected,p_value",
        "payment problem,2025-11-25T00:00:00+01:00,14,1.5416666666666667,1.234e-09",
    ]
    buffer = io.StringIO(newline="")
    to_csv(response(), buffer)
    assert buffer.getvalue().splitlines()[1] == "whatsapp,1,0,,,1,600.0,600.0"


class Odd(BaseModel):
    amount: Decimal
    big: Decimal
    flag: bool
    off: bool
    direction: Direction
    day: date
    tags: list[str]
    note: str | None


def test_other_cell_types() -> None:
    row = Odd(
        amount=Decimal("12.50"),
        big=Decimal("1E+3"),
        flag=True,
        off=False,
        direction=Direction.INBOUND,
        day=date(2025, 11, 1),
        tags=["a", "b"],
        note=None,
    )
    buffer = io.StringIO(newline="")
    to_csv([row], buffer)
    assert buffer.getvalue().splitlines()[1] == "12.50,1000,true,false,inbound,2025-11-01,a > b,"


def parse(kind: type[BaseModel], record: dict[str, str]) -> BaseModel:
    """A CSV record back into its row type."""
    values: dict[str, object] = {}
    for name, info in kind.model_fields.items():
        text = record[name]
        annotation = info.annotation
        optional = typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(
            None
        ) in typing.get_args(annotation)
        if text == "" and optional:
            values[name] = None
        elif typing.get_origin(annotation) is tuple:
            values[name] = tuple(text.split(" > "))
        else:
            values[name] = text
    return kind.model_validate(values)


@pytest.mark.parametrize("rows", [journeys(), spikes(), response()])
def test_csv_round_trip(tmp_path: Path, rows: list[BaseModel]) -> None:
    target = tmp_path / "rows.csv"
    to_csv(rows, str(target))
    with target.open(encoding="utf-8", newline="") as handle:
        back = [parse(type(rows[0]), record) for record in csv.DictReader(handle)]
    assert back == rows
    if isinstance(rows[0], TopicSpikeRow):
        moment = typing.cast(TopicSpikeRow, back[0]).period_start
        assert moment.utcoffset() == timedelta(hours=1)
        assert moment == datetime(2025, 11, 24, 23, tzinfo=timezone.utc)


def test_no_rows_make_an_empty_file(tmp_path: Path) -> None:
    target = tmp_path / "empty.csv"
    to_csv([], target)
    assert target.read_text() == ""


def test_rows_of_several_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="must all be of one type") as info:
        to_csv([*journeys(), *spikes()], tmp_path / "mixed.csv")
    assert info.value.field == "rows"
    assert info.value.value == "JourneyRow, TopicSpikeRow"
    assert not (tmp_path / "mixed.csv").exists()
