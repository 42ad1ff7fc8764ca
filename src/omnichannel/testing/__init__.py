"""Test support for omnichannel users and plugin authors.

* :class:`StoreConformance`: the suite every storage backend must pass; subclass it in
  your tests and override its ``store`` fixture.
* :func:`make_interaction`: a terse builder for test interactions.

This module needs pytest (installed with the ``dev`` extra).
"""

from omnichannel.testing._store_suite import StoreConformance, make_interaction

__all__ = ["StoreConformance", "make_interaction"]
