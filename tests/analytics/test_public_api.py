"""The public surface of omnichannel.analytics: pinned, documented, matplotlib optional."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

from pydantic import BaseModel

import omnichannel.analytics as analytics

EXPECTED = [
    "ALL_CHANNELS",
    "MIN_RATE",
    "NON_CONTACT_KINDS",
    "PATH_SEPARATOR",
    "ChannelMixRow",
    "ChannelsPerCustomerRow",
    "FulfilmentRow",
    "JourneyRow",
    "Period",
    "PeriodVolumeRow",
    "ResponseTimeRow",
    "Spike",
    "TopicCountRow",
    "TopicSpikeRow",
    "VolumeRow",
    "channel_mix",
    "channels_per_customer",
    "detect_spikes",
    "fulfilment",
    "journeys",
    "plot",
    "poisson_upper_tail",
    "response_times",
    "to_csv",
    "to_records",
    "topic_counts",
    "topic_spikes",
    "volume",
    "volume_over_time",
]


def test_all_is_pinned() -> None:
    assert analytics.__all__ == EXPECTED


def test_no_public_name_leaks() -> None:
    public = {
        name
        for name, value in vars(analytics).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", "omnichannel").startswith("omnichannel")
    }
    assert public <= set(analytics.__all__), public - set(analytics.__all__)


def test_public_objects_have_docstrings() -> None:
    assert inspect.getdoc(analytics)
    for name in analytics.__all__:
        obj = getattr(analytics, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
        if inspect.isclass(obj):
            for member_name, member in vars(obj).items():
                if member_name.startswith("_") or not callable(member):
                    continue
                assert inspect.getdoc(member), f"{name}.{member_name}"


def test_rows_are_frozen_and_strict() -> None:
    for name in analytics.__all__:
        obj = getattr(analytics, name)
        if inspect.isclass(obj):
            assert issubclass(obj, BaseModel), name
            assert obj.model_config.get("frozen") is True, name
            assert obj.model_config.get("extra") == "forbid", name


def test_the_package_imports_without_matplotlib() -> None:
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "matplotlib" or name.startswith("matplotlib."):
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        import omnichannel.analytics as analytics

        assert "matplotlib" not in sys.modules
        try:
            analytics.plot(analytics.channels_per_customer([]) or [
                analytics.ChannelsPerCustomerRow(channels=1, customers=1, share=1.0)
            ], "never.png")
        except ImportError as exc:
            assert "pip install 'omnichannel[plot]'" in str(exc), exc
        else:
            raise AssertionError("plot worked without matplotlib")
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
