"""Charts: one per row type, PNG and SVG, and a clear hint without matplotlib."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib  # the dev extra installs it: these tests never skip
import pytest
from pydantic import BaseModel

from omnichannel import InvalidValueError
from omnichannel.analytics import (
    Spike,
    channel_mix,
    channels_per_customer,
    fulfilment,
    journeys,
    plot,
    response_times,
    topic_counts,
    topic_spikes,
    volume,
    volume_over_time,
)
from tests.analytics import test_fulfilment, test_journeys, test_mix, test_response, test_topics
from tests.analytics._builders import WARSAW

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def reports() -> dict[str, list[BaseModel]]:
    month = test_topics.payment_problem_month()
    return {
        "volume": list(volume(month, tz=WARSAW)),
        "volume_over_time": list(volume_over_time(month, tz=WARSAW)),
        "topic_counts": list(topic_counts(month, tz=WARSAW)),
        "topic_spikes": list(topic_spikes(month, tz=WARSAW)),
        "channel_mix": list(channel_mix(test_mix.sample())),
        "channels_per_customer": list(channels_per_customer(test_mix.sample())),
        "journeys": list(journeys(test_journeys.sample())),
        "response_times": list(response_times(test_response.sample())),
        "fulfilment": list(fulfilment(test_fulfilment.sample())),
    }


REPORTS = reports()


def check_written(path: Path) -> None:
    data = path.read_bytes()
    assert data
    if path.suffix.lower() == ".png":
        assert data.startswith(PNG_SIGNATURE)
    else:
        root = ET.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize("name", sorted(REPORTS))
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_every_report_has_a_chart(tmp_path: Path, name: str, suffix: str) -> None:
    rows = REPORTS[name]
    assert rows
    target = tmp_path / f"{name}{suffix}"
    assert plot(rows, target) == target
    check_written(target)


def test_topic_counts_with_their_spikes_marked(tmp_path: Path) -> None:
    target = plot(
        REPORTS["topic_counts"],
        str(tmp_path / "topics.SVG"),
        title="Payment problems, November",
        spikes=REPORTS["topic_spikes"],  # type: ignore[arg-type]
    )
    check_written(target)
    plain = plot(
        REPORTS["topic_counts"], tmp_path / "plain.svg", title="Payment problems, November"
    )
    assert target.read_bytes() != plain.read_bytes()  # the spikes are marked


def test_svg_files_are_reproducible(tmp_path: Path) -> None:
    first = plot(REPORTS["channel_mix"], tmp_path / "a.svg")
    second = plot(REPORTS["channel_mix"], tmp_path / "b.svg")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    ("rows", "path", "options", "field", "reason"),
    [
        (REPORTS["journeys"], "chart.pdf", {}, "path", "must end in .png or .svg"),
        (REPORTS["journeys"], "chart", {}, "path", "must end in .png or .svg"),
        ([], "chart.png", {}, "rows", "is empty"),
        (
            [*REPORTS["journeys"], *REPORTS["channel_mix"]],
            "chart.png",
            {},
            "rows",
            "must all be of one type",
        ),
        (
            [Spike(index=1, observed=9, expected=1.0, p_value=1e-5)],
            "chart.png",
            {},
            "rows",
            "has no chart",
        ),
        (
            REPORTS["volume"],
            "chart.png",
            {"spikes": REPORTS["topic_spikes"]},
            "spikes",
            "can only be marked on TopicCountRow charts",
        ),
    ],
)
def test_bad_requests_are_refused(
    tmp_path: Path,
    rows: list[BaseModel],
    path: str,
    options: dict[str, object],
    field: str,
    reason: str,
) -> None:
    with pytest.raises(InvalidValueError, match=reason) as info:
        plot(rows, tmp_path / path, **options)  # type: ignore[arg-type]
    assert info.value.field == field
    assert not (tmp_path / path).exists()


def test_without_matplotlib_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'omnichannel\[plot\]'"):
        plot(REPORTS["journeys"], tmp_path / "chart.png")
    assert not (tmp_path / "chart.png").exists()


def test_plotting_leaves_the_backend_and_settings_alone(tmp_path: Path) -> None:
    backend = matplotlib.get_backend()
    salt = matplotlib.rcParams["svg.hashsalt"]
    plot(REPORTS["volume"], tmp_path / "volume.svg")
    assert matplotlib.get_backend() == backend
    assert matplotlib.rcParams["svg.hashsalt"] == salt
