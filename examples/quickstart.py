"""Quickstart: one customer across SMS, email and the store, in a SQLite file.

Run it from any directory: ``python examples/quickstart.py``. It writes
``quickstart.db`` in the working directory and removes it at the end.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from omnichannel import Hub, Identifier, Interaction, TextPart

DB = Path("quickstart.db")


def main() -> None:
    """Ingest three interactions and print the customer's unified timeline."""
    with Hub(f"sqlite:///{DB}", default_region="PL") as hub:
        # Monday: the customer texts from their phone, written in national format.
        hub.ingest(
            {
                "channel": "sms",
                "source_id": "SM-1001",
                "occurred_at": "2026-11-16T09:12:00+01:00",
                "identifiers": [{"kind": "phone", "value": "601 234 567"}],
                "traits": {"display_name": "Zofia Wiśniewska"},
                "content": [{"type": "text", "text": "Do you have the blue kettle in stock?"}],
            }
        )
        # Tuesday: an email from an address we have never seen: a second profile, for now.
        hub.ingest(
            Interaction(
                channel="email",
                source_id="<cafe.1@mail.example.org>",
                occurred_at=datetime(2026, 11, 17, 18, 40, tzinfo=timezone.utc),
                identifiers=(Identifier.email("Zofia.Wisniewska@Example.org"),),
                content=(TextPart(text="Please reserve the kettle for me."),),
            )
        )
        # Wednesday: she buys in the store and gives both: the two profiles merge.
        result = hub.ingest(
            {
                "channel": "store",
                "kind": "order",
                "source_id": "POS-77-0042",
                "occurred_at": "2026-11-18T12:05:00+01:00",
                "identifiers": [
                    {"kind": "phone", "value": "+48 601 234 567"},
                    {"kind": "email", "value": "zofia.wisniewska@example.org"},
                ],
                "content": [
                    {"type": "order", "order_id": "77-0042", "amount": "189.00", "currency": "PLN"}
                ],
            }
        )
        print(f"store order: {result.outcome.value}, profile {result.profile_id}")

        profile = hub.find("601 234 567")
        assert profile is not None
        print(profile.display_name, [str(e.identifier) for e in profile.identifiers])
        for interaction in hub.timeline(profile.id).items:
            when = interaction.occurred_at.strftime("%Y-%m-%d %H:%M")
            print(f"  {when}  {interaction.channel:<6} {interaction.kind:<8} {interaction.summary}")
    for path in DB.parent.glob(f"{DB.name}*"):
        path.unlink()


if __name__ == "__main__":
    main()
