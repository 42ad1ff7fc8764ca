"""The Hub's own behaviour: construction, input validation, retries, cursors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from omnichannel import (
    Hub,
    Identifier,
    IngestOutcome,
    InvalidPayloadError,
    InvalidValueError,
    NotFoundError,
    StoreConflictError,
)
from omnichannel.storage import MemoryStore, Store, Transaction
from omnichannel.testing import make_interaction

PHONE = Identifier.phone("+48601234567")


def sms(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "channel": "sms",
        "source_id": "SM1",
        "occurred_at": "2026-11-20T10:00:00+01:00",
        "identifiers": [{"kind": "phone", "value": "601 234 567"}],
        "content": [{"type": "text", "text": "Is my order ready?"}],
    }
    base.update(overrides)
    return base


@pytest.fixture
def hub() -> Hub:
    return Hub(MemoryStore(), default_region="PL")


def test_default_store_is_sqlite_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Hub() as hub:
        hub.ingest(make_interaction("m1", PHONE))
    assert (tmp_path / "omnichannel.db").exists()
    with Hub(f"sqlite:///{tmp_path / 'omnichannel.db'}") as again:
        assert again.find(PHONE) is not None


def test_mapping_is_validated_with_the_default_region(hub: Hub) -> None:
    result = hub.ingest(sms())
    assert result.outcome is IngestOutcome.CREATED
    profile = hub.profile(result.profile_id)
    assert profile.identifiers[0].identifier.value == "+48601234567"
    stored = hub.timeline(result.profile_id).items[0]
    assert stored.occurred_at.utcoffset() is not None
    assert stored.occurred_at.hour == 9  # kept in UTC


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"occurred_at": "2026-11-20T10:00:00"}, "occurred_at", "timezone"),
        ({"channel": "SMS!"}, "channel", "slug"),
        (
            {"identifiers": [{"kind": "phone", "value": "12"}]},
            "identifiers.0.value",
            "not a valid number",
        ),
        ({"identifiers": [{"kind": "fax", "value": "1"}]}, "identifiers.0.kind", "Input"),
        ({"content": [{"type": "sticker"}]}, "content.0", "tag"),
        ({"unknown": 1}, "unknown", "Extra inputs"),
        ({"identifiers": []}, "identifiers", "at least one"),
    ],
)
def test_bad_mappings_name_the_field_and_store_nothing(
    hub: Hub, overrides: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidValueError, match=reason) as caught:
        hub.ingest(sms(**overrides))
    assert caught.value.field == field
    assert field in str(caught.value)
    assert list(hub.profiles()) == []


def test_payload_error_chains_pydantic_and_lists_every_failure(hub: Hub) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        hub.ingest(sms(occurred_at="yesterday", channel="!"))
    fields = [field for field, _ in caught.value.errors]
    assert fields == ["channel", "occurred_at"]
    assert caught.value.__cause__ is not None


def test_phone_values_are_masked_in_payload_errors(hub: Hub) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        hub.ingest(sms(identifiers=[{"kind": "phone", "value": "+48 999 888 777 666"}]))
    assert "999 888 777" not in str(caught.value)


def test_non_mapping_input_is_rejected(hub: Hub) -> None:
    with pytest.raises(InvalidValueError, match="Interaction or a mapping"):
        hub.ingest(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"workspace": ""}, "workspace"),
        ({"workspace": "a b"}, "workspace"),
        ({"default_region": "XX"}, "default_region"),
        ({"max_attempts": 0}, "max_attempts"),
    ],
)
def test_bad_hub_options(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        Hub(MemoryStore(), **kwargs)
    assert caught.value.field == field


def test_find_reads_strings_with_the_default_region(hub: Hub) -> None:
    result = hub.ingest(sms())
    for text in ("601 234 567", "+48601234567", "phone:+48 601-234-567"):
        found = hub.find(text)
        assert found is not None
        assert found.id == result.profile_id
    assert hub.find("jan@example.com") is None


def test_unknown_profile(hub: Hub) -> None:
    with pytest.raises(NotFoundError):
        hub.profile("missing")


@pytest.mark.parametrize("cursor", ["???", "bm90LWEtY3Vyc29y", "MjAyNi0xMS0yMFQxMDowMDowMHw"])
def test_bad_cursor(hub: Hub, cursor: str) -> None:
    result = hub.ingest(sms())
    with pytest.raises(InvalidValueError) as caught:
        hub.timeline(result.profile_id, before=cursor)
    assert caught.value.field == "before"


@pytest.mark.parametrize("limit", [0, 1001])
def test_bad_limit(hub: Hub, limit: int) -> None:
    with pytest.raises(InvalidValueError, match="limit"):
        hub.timeline("x", limit=limit)


def test_bad_batch_size(hub: Hub) -> None:
    with pytest.raises(InvalidValueError, match="batch_size"):
        hub.ingest_many([], batch_size=0)


class FlakyStore:
    """A store whose first ``failures`` write transactions lose a race."""

    def __init__(self, failures: int) -> None:
        self.inner = MemoryStore()
        self.failures = failures
        self.attempts = 0

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Transaction]:
        with self.inner.transaction(readonly=readonly) as tx:
            if not readonly:
                self.attempts += 1
                if self.attempts <= self.failures:
                    raise StoreConflictError("simulated concurrent writer")
            yield tx

    def close(self) -> None:
        self.inner.close()


def test_conflicts_are_retried() -> None:
    store = FlakyStore(failures=3)
    hub = Hub(store)
    result = hub.ingest(make_interaction("m1", PHONE))
    assert result.outcome is IngestOutcome.CREATED
    assert store.attempts == 4


def test_conflicts_give_up_after_max_attempts() -> None:
    store: Store = FlakyStore(failures=10)
    hub = Hub(store, max_attempts=2)
    with pytest.raises(StoreConflictError):
        hub.ingest(make_interaction("m1", PHONE))
    assert Hub(store).find(PHONE) is None


def test_a_batch_that_keeps_conflicting_is_split_in_halves() -> None:
    store = FlakyStore(failures=2)  # the batch of 100 fails twice; its halves commit
    hub = Hub(store)
    stream = [make_interaction(f"m{n}", PHONE, minutes=n) for n in range(100)]
    summary = hub.ingest_many(stream, batch_size=100)
    assert (summary.created, summary.attached) == (1, 99)
    assert store.attempts == 2 + 2


def test_halves_that_keep_conflicting_are_split_down_to_single_interactions() -> None:
    # 5 fails twice, then its first half (2) twice: 1, 1 and the second half (3) commit
    store = FlakyStore(failures=4)
    hub = Hub(store)
    stream = [make_interaction(f"m{n}", PHONE, minutes=n) for n in range(5)]
    summary = hub.ingest_many(stream, batch_size=5)
    assert (summary.created, summary.attached) == (1, 4)
    assert store.attempts == 2 + 2 + 3
    profile = hub.find(PHONE)
    assert profile is not None
    page = hub.timeline(profile.id, limit=10)
    assert [i.source_id for i in page.items] == [f"m{n}" for n in reversed(range(5))]
