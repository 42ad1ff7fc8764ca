"""Charts of report rows, through the optional ``plot`` extra (matplotlib).

matplotlib is imported when :func:`plot` is called, never when the package is: the core
install does not need it. Figures are drawn with matplotlib's object-oriented API on an
Agg canvas, without ``pyplot``, so plotting neither changes the caller's backend (a
notebook's inline one) nor keeps figures alive in pyplot's registry.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from omnichannel._errors import InvalidValueError
from omnichannel.analytics._export import PATH_SEPARATOR
from omnichannel.analytics._fulfilment import FulfilmentRow
from omnichannel.analytics._journeys import JourneyRow
from omnichannel.analytics._mix import ChannelMixRow, ChannelsPerCustomerRow
from omnichannel.analytics._response import ResponseTimeRow
from omnichannel.analytics._topics import TopicCountRow, TopicSpikeRow
from omnichannel.analytics._volume import PeriodVolumeRow, VolumeRow

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["INSTALL_HINT", "plot"]

INSTALL_HINT = "pip install 'omnichannel[plot]'"
"""How to install what :func:`plot` needs."""

_FORMATS = ("png", "svg")
_RowT = TypeVar("_RowT", bound=BaseModel)
_WIDTH_IN = 10.0
_HEIGHT_IN = 5.0


def plot(
    rows: Sequence[BaseModel],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    spikes: Sequence[TopicSpikeRow] = (),
) -> Path:
    """Draw the rows of one report as a chart and save it.

    The chart suits the row type:

    * :class:`VolumeRow`: stacked bars of interactions per local hour, one colour per
      channel (weekdays summed; filter the rows for one weekday).
    * :class:`PeriodVolumeRow`: a line per channel over time.
    * :class:`TopicCountRow`: a line per topic over time (channels summed); the periods of
      ``spikes`` (from :func:`topic_spikes`) are marked with red dots.
    * :class:`TopicSpikeRow`: each spike as its observed count over the expected one.
    * :class:`ChannelMixRow`: bars of each channel's share of interactions and customers.
    * :class:`ChannelsPerCustomerRow`: bars of customers per number of channels used.
    * :class:`JourneyRow`: horizontal bars of orders per path, the commonest at the top
      (pass the first rows only for a readable chart: ``rows[:15]``).
    * :class:`ResponseTimeRow`: bars of median and 90th percentile first-response times
      (minutes) and resolution times (hours) per first channel.
    * :class:`FulfilmentRow`: bars of the click & collect, pick-up and in-store return
      rates per order channel.

    Periods are plotted at their local start time, in the time zone of the report.

    Args:
        rows: the rows of one report, all of one type.
        path: where to write; the suffix chooses the format, ``.png`` or ``.svg``.
        title: the chart's title (default: one naming the report).
        spikes: spikes to mark on a :class:`TopicCountRow` chart.

    Returns:
        The path written.

    Raises:
        InvalidValueError: a path without a ``.png`` or ``.svg`` suffix; no rows, rows of
            several types or of a type without a chart; ``spikes`` with other rows.
        ImportError: matplotlib is not installed (``pip install 'omnichannel[plot]'``).
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise InvalidValueError("path", str(path), "must end in .png or .svg", mask=False)
    if not rows:
        raise InvalidValueError("rows", list(rows), "is empty: nothing to plot", mask=False)
    kinds = {type(row) for row in rows}
    if len(kinds) > 1:
        names = ", ".join(sorted(kind.__name__ for kind in kinds))
        raise InvalidValueError("rows", names, "must all be of one type", mask=False)
    kind = kinds.pop()
    chart = _CHARTS.get(kind)
    if chart is None:
        raise InvalidValueError("rows", kind.__name__, "has no chart", mask=False)
    if spikes and kind is not TopicCountRow:
        raise InvalidValueError(
            "spikes", len(spikes), "can only be marked on TopicCountRow charts", mask=False
        )
    try:
        from matplotlib import rc_context
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"omnichannel.analytics.plot needs matplotlib: {INSTALL_HINT}") from exc

    draw, default_title, height_in = chart
    figure = Figure(figsize=(_WIDTH_IN, height_in(len(rows))))
    FigureCanvasAgg(figure)
    draw(figure, rows, spikes)
    figure.suptitle(title if title is not None else default_title)
    # Reproducible SVG files: no date, and element ids hashed with a fixed salt.
    metadata = {"Date": None} if fmt == "svg" else None
    with rc_context({"svg.hashsalt": "omnichannel"}):
        figure.savefig(target, format=fmt, bbox_inches="tight", metadata=metadata)
    return target


def _times(moments: Iterable[datetime]) -> npt.NDArray[np.datetime64]:
    """Local wall-clock times as numpy datetimes.

    matplotlib shows aware datetimes in its own zone (UTC); the report's zone is wanted.
    """
    import numpy  # a dependency of matplotlib

    return numpy.array([m.replace(tzinfo=None) for m in moments], dtype="datetime64[us]")


def _volume(figure: Figure, rows: Sequence[BaseModel], _: Sequence[TopicSpikeRow]) -> None:
    axes = figure.add_subplot()
    hours = list(range(24))
    per_channel: dict[str, list[int]] = {}
    for row in _of(rows, VolumeRow):
        per_channel.setdefault(row.channel, [0] * 24)[row.hour] += row.interactions
    bottom = [0] * 24
    for channel in sorted(per_channel):
        counts = per_channel[channel]
        axes.bar(hours, counts, bottom=bottom, label=channel)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_xticks(hours)
    axes.set_xlabel("local hour")
    axes.set_ylabel("interactions")
    axes.legend(title="channel")


def _lines(axes: Axes, series: Mapping[str, Mapping[datetime, int]], legend: str) -> None:
    for name in sorted(series):
        points = sorted(series[name].items())
        axes.plot(_times(t for t, _ in points), [n for _, n in points], marker="o", label=name)
    axes.set_ylabel("interactions")
    axes.legend(title=legend)


def _period_volume(figure: Figure, rows: Sequence[BaseModel], _: Sequence[TopicSpikeRow]) -> None:
    axes = figure.add_subplot()
    series: defaultdict[str, dict[datetime, int]] = defaultdict(dict)
    for row in _of(rows, PeriodVolumeRow):
        series[row.channel][row.period_start] = row.interactions
    _lines(axes, series, "channel")
    figure.autofmt_xdate()


def _topic_counts(
    figure: Figure, rows: Sequence[BaseModel], spikes: Sequence[TopicSpikeRow]
) -> None:
    axes = figure.add_subplot()
    series: defaultdict[str, defaultdict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for row in _of(rows, TopicCountRow):
        series[row.topic][row.period_start] += row.count
    _lines(axes, series, "topic")
    if spikes:
        axes.scatter(
            _times(s.period_start for s in spikes),
            [s.observed for s in spikes],
            s=120,
            facecolors="none",
            edgecolors="red",
            linewidths=2,
            zorder=3,
        )
        for spike, moment in zip(spikes, _times(s.period_start for s in spikes), strict=True):
            axes.annotate(
                spike.topic,
                (moment, spike.observed),
                textcoords="offset points",
                xytext=(0, 10),
                ha="center",
                color="red",
            )
    figure.autofmt_xdate()


def _topic_spikes(figure: Figure, rows: Sequence[BaseModel], _: Sequence[TopicSpikeRow]) -> None:
    axes = figure.add_subplot()
    by_topic: defaultdict[str, list[TopicSpikeRow]] = defaultdict(list)
    for row in _of(rows, TopicSpikeRow):
        by_topic[row.topic].append(row)
    for topic in sorted(by_topic):
        spikes = by_topic[topic]
        times = _times(s.period_start for s in spikes)
        axes.vlines(
            times, [s.expected for s in spikes], [s.observed for s in spikes], colors="grey"
        )
        axes.scatter(times, [s.observed for s in spikes], label=f"{topic}: observed", zorder=3)
        axes.scatter(times, [s.expected for s in spikes], marker="_", s=200, color="grey", zorder=3)
    axes.set_ylabel("interactions (observed over expected)")
    axes.legend(title="topic")
    figure.autofmt_xdate()


def _channel_mix(figure: Figure, rows: Sequence[BaseModel], _: Sequence[TopicSpikeRow]) -> None:
    axes = figure.add_subplot()
    mix = _of(rows, ChannelMixRow)
    positions = list(range(len(mix)))
    width = 0.4
    axes.bar(
        [p - width / 2 for p in positions],
        [100 * r.share for r in mix],
        width,
        label="interactions",
    )
    axes.bar(
        [p + width / 2 for p in positions],
        [100 * r.customer_share for r in mix],
        width,
        label="customers",
    )
    axes.set_xticks(positions, [r.channel for r in mix])
    axes.set_ylabel("% of all")
    axes.legend(title="share of")


def _channels_per_customer(
    figure: Figure, rows: Sequence[BaseModel], _: Sequence[TopicSpikeRow]
) -> None:
    axes = figure.add_subplot()
    histogram = _of(rows, ChannelsPerCustomerRow)
    axes.bar([r.channels for r in histogram], [r.customers for r in histogram])
    axes.set_xticks([r.channels for r in histogram])
    axes.set_xlabel("distinct channels used")
    axes.set_ylabel("customers")


def _journeys(figure: Figure, rows: Sequence[BaseModel], _: Sequence[TopicSpikeRow]) -> None:
    axes = figure.add_subplot()
    paths = _of(rows, JourneyRow)
    labels = [PATH_SEPARATOR.join(r.path) for r in paths]
    axes.barh(list(range(len(paths))), [r.orders for r in paths])
    axes.set_yticks(list(range(len(paths))), labels)
    axes.invert_yaxis()  # the commonest path on top
    axes.set_xlabel("orders")


def _response_times(figure: Figure, rows: Sequence[BaseModel], _: Sequence[TopicSpikeRow]) -> None:
    times = _of(rows, ResponseTimeRow)
    positions = list(range(len(times)))
    width = 0.4
    panels = (
        ("first response (minutes)", 60.0, "first_response"),
        ("resolution (hours)", 3600.0, "resolution"),
    )
    for index, (label, unit_s, field) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, 2, index)
        for offset, stat in ((-width / 2, "median"), (width / 2, "p90")):
            values = [getattr(r, f"{field}_{stat}_s") for r in times]
            axes.bar(
                [p + offset for p in positions],
                [0.0 if v is None else v / unit_s for v in values],
                width,
                label=stat,
            )
        axes.set_xticks(positions, [r.channel for r in times])
        axes.set_title(label)
        axes.legend()


def _fulfilment(figure: Figure, rows: Sequence[BaseModel], _: Sequence[TopicSpikeRow]) -> None:
    axes = figure.add_subplot()
    report = _of(rows, FulfilmentRow)
    positions = list(range(len(report)))
    width = 0.27
    rates = (
        ("click & collect", "click_and_collect_rate"),
        ("picked up", "pickup_rate"),
        ("returned in store", "return_in_store_rate"),
    )
    for index, (label, field) in enumerate(rates):
        values = [getattr(r, field) for r in report]
        axes.bar(
            [p + (index - 1) * width for p in positions],
            [0.0 if v is None else 100 * v for v in values],
            width,
            label=label,
        )
    axes.set_xticks(positions, [r.channel for r in report])
    axes.set_ylabel("%")
    axes.legend()


def _of(rows: Sequence[BaseModel], kind: type[_RowT]) -> list[_RowT]:
    return [row for row in rows if isinstance(row, kind)]


def _fixed(_: int) -> float:
    return _HEIGHT_IN


def _per_row(count: int) -> float:
    return max(_HEIGHT_IN / 2, 1.0 + 0.35 * count)


_Draw = Callable[["Figure", Sequence[BaseModel], Sequence[TopicSpikeRow]], None]

_CHARTS: dict[type[BaseModel], tuple[_Draw, str, Callable[[int], float]]] = {
    VolumeRow: (_volume, "Interactions per hour of day", _fixed),
    PeriodVolumeRow: (_period_volume, "Interactions over time", _fixed),
    TopicCountRow: (_topic_counts, "Topics over time", _fixed),
    TopicSpikeRow: (_topic_spikes, "Topic spikes", _fixed),
    ChannelMixRow: (_channel_mix, "Channel mix", _fixed),
    ChannelsPerCustomerRow: (_channels_per_customer, "Channels per customer", _fixed),
    JourneyRow: (_journeys, "Journeys to orders", _per_row),
    ResponseTimeRow: (_response_times, "Response times by first channel", _fixed),
    FulfilmentRow: (_fulfilment, "Online orders fulfilled in store", _fixed),
}
