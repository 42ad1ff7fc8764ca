"""Every backend we ship runs the conformance suite third parties run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from omnichannel.storage import MemoryStore, SQLStore, Store
from omnichannel.testing import StoreConformance


class TestMemoryStore(StoreConformance):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = MemoryStore()
        yield store
        store.close()


class TestSQLiteStore(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = SQLStore(f"sqlite:///{tmp_path / 'omnichannel.db'}")
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresStore(StoreConformance):
    @pytest.fixture
    def store(self, postgres_engine: sa.Engine, table_prefix: str) -> Iterator[Store]:
        store = SQLStore(postgres_engine, table_prefix=table_prefix)
        yield store
        store.close()
