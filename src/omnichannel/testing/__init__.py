"""Test support for omnichannel users and plugin authors.

* :class:`StoreConformance`: the suite every storage backend must pass; subclass it in
  your tests and override its ``store`` fixture.
* :class:`AdapterConformance`: the suite every channel adapter must pass, fuzzing
  included; override its ``adapter``, ``samples`` and ``outbound`` fixtures and ``sign``.
* :func:`make_interaction`: a terse builder for test interactions.

This module needs pytest and hypothesis (installed with the ``dev`` extra).
"""

from omnichannel.testing._adapter_suite import AdapterConformance
from omnichannel.testing._store_suite import StoreConformance, make_interaction

__all__ = ["AdapterConformance", "StoreConformance", "make_interaction"]
