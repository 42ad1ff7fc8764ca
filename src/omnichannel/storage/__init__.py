"""Storage backends and the contract they implement.

* :class:`MemoryStore`: in process memory, for tests and prototypes.
* :class:`SQLStore`: SQLAlchemy Core; a SQLite file is the embedded default, PostgreSQL
  (extra ``postgres``) serves many processes.
* :class:`Store` / :class:`Transaction`: the protocol a third-party backend implements;
  prove it with the conformance suite in :mod:`omnichannel.testing`.
"""

from omnichannel.storage._memory import MemoryStore
from omnichannel.storage._protocol import InteractionRecord, MatchKey, Store, Transaction
from omnichannel.storage._sql import SCHEMA_VERSION, SQLStore

__all__ = [
    "SCHEMA_VERSION",
    "InteractionRecord",
    "MatchKey",
    "MemoryStore",
    "SQLStore",
    "Store",
    "Transaction",
]
