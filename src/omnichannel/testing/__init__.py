"""Test support for omnichannel users and plugin authors.

* :class:`StoreConformance`: the suite every storage backend must pass; subclass it in
  your tests and override its ``store`` fixture.
* :class:`AdapterConformance`: the suite every channel adapter must pass, fuzzing
  included; override its ``adapter``, ``samples`` and ``outbound`` fixtures and ``sign``.
* :func:`make_interaction`: a terse builder for test interactions.
* :func:`generate`: a seeded synthetic omnichannel data set with ground truth (households,
  namesakes, typos, transliterations, recycled numbers ...), :func:`records` for a CRM
  export view, and :func:`pair_metrics` for over- and under-merge rates.

The suites need pytest and hypothesis (the ``dev`` extra) and are imported only when
used; the generator needs only the core dependencies.
"""

from __future__ import annotations

import typing

from omnichannel.testing._generator import (
    GroundTruth,
    Metrics,
    NoiseSettings,
    Person,
    PhoneTenure,
    SyntheticDataset,
    generate,
    pair_metrics,
    records,
)

if typing.TYPE_CHECKING:
    from omnichannel.testing._adapter_suite import AdapterConformance
    from omnichannel.testing._store_suite import StoreConformance, make_interaction

__all__ = [
    "AdapterConformance",
    "GroundTruth",
    "Metrics",
    "NoiseSettings",
    "Person",
    "PhoneTenure",
    "StoreConformance",
    "SyntheticDataset",
    "generate",
    "make_interaction",
    "pair_metrics",
    "records",
]

_LAZY = {
    "AdapterConformance": "omnichannel.testing._adapter_suite",
    "StoreConformance": "omnichannel.testing._store_suite",
    "make_interaction": "omnichannel.testing._store_suite",
}


def __getattr__(name: str) -> typing.Any:
    """Import the pytest suites on first use, so the generator works without pytest."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'omnichannel.testing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
