"""omnichannel.analytics beyond the shared public-API checks: rows are strict, matplotlib
is optional."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

from pydantic import BaseModel

import omnichannel.analytics as analytics


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
