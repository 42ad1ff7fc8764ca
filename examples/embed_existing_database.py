"""Keep omnichannel's tables inside an existing CRM database, beside the CRM's own.

The CRM owns the SQLAlchemy engine and its ``customers`` table; omnichannel gets the same
engine and a table prefix, links its profiles to CRM rows by an external id, and the CRM
joins its rows to omnichannel's identifier index in plain SQL. Run it:
``python examples/embed_existing_database.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa

from omnichannel import Hub
from omnichannel.storage import SQLStore


def main() -> None:
    """Create a CRM table, ingest contacts through omnichannel, join them back."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = sa.create_engine(f"sqlite:///{Path(tmp) / 'crm.db'}")
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT)")
            conn.exec_driver_sql(
                "INSERT INTO customers VALUES ('4711', 'Jürgen Weiß'), ('4712', 'Emily Clarke')"
            )
        store = SQLStore(engine, table_prefix="omni_")
        hub = Hub(store, workspace="crm", default_region="DE")
        hub.ingest(
            {
                "channel": "voice",
                "kind": "call",
                "source_id": "CA-1",
                "occurred_at": "2026-11-20T15:02:00+01:00",
                "identifiers": [
                    {"kind": "phone", "value": "0151 41873260"},
                    {"kind": "external", "namespace": "crm", "value": "4711"},
                ],
                "content": [{"type": "text", "text": "Asked about delivery times."}],
            }
        )
        hub.ingest(
            {
                "channel": "whatsapp",
                "source_id": "wamid.7",
                "occurred_at": "2026-11-21T09:30:00+01:00",
                "identifiers": [{"kind": "phone", "value": "+49 151 41873260"}],
                "content": [{"type": "text", "text": "Danke, bis Freitag!"}],
            }
        )
        query = sa.text(
            "SELECT c.name, i.profile_id FROM customers c "
            "JOIN omni_identifiers i ON i.workspace = 'crm' AND i.kind = 'external' "
            "AND i.namespace = 'crm' AND i.key = c.id"
        )
        with engine.connect() as conn:
            for name, profile_id in conn.execute(query):
                channels = [i.channel for i in hub.history(profile_id)]
                print(f"{name}: profile {profile_id}, contacts on {channels}")
        print("tables:", sorted(sa.inspect(engine).get_table_names()))
        store.close()
        engine.dispose()


if __name__ == "__main__":
    main()
