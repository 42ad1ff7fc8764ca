"""Schema versions: upgrade in place, refuse newer, survive concurrent openers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from omnichannel import Hub, Identifier, SchemaVersionError
from omnichannel.storage import SCHEMA_VERSION, SQLStore
from omnichannel.testing import make_interaction

V1_DUMP = Path(__file__).parent / "fixtures" / "schema_v1.sqlite.sql"


def _v1_database(tmp_path: Path) -> Path:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1_DUMP.read_text(encoding="utf-8"))
    conn.close()
    return path


def _indexes(engine: sa.Engine) -> set[str]:
    return {str(i["name"]) for i in sa.inspect(engine).get_indexes("omnichannel_interactions")}


def test_fixture_is_a_version_1_database(tmp_path: Path) -> None:
    path = _v1_database(tmp_path)
    conn = sqlite3.connect(path)
    (version,) = conn.execute(
        "SELECT value FROM omnichannel_meta WHERE key = 'schema_version'"
    ).fetchone()
    conn.close()
    assert version == "1"


def test_version_1_is_upgraded_in_place_keeping_data(tmp_path: Path) -> None:
    path = _v1_database(tmp_path)
    store = SQLStore(f"sqlite:///{path}")
    assert store.schema_version == SCHEMA_VERSION == 6
    assert "omnichannel_interactions_origin" not in _indexes(store.engine)  # 2, dropped in 6
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"omnichannel_reviews", "omnichannel_apart", "omnichannel_sharers"} <= tables  # 3
    assert "omnichannel_blocking" in tables  # 4
    version_5 = {"conversations", "consents", "events", "workspaces", "suppressions"}
    assert {f"omnichannel_{name}" for name in version_5} <= tables
    assert "omnichannel_interactions_time" in _indexes(store.engine)
    hub = Hub(store)
    profile = hub.find(Identifier.email("jan@example.com"))
    assert profile is not None
    assert profile.display_name == "Jan"
    assert [i.channel for i in hub.timeline(profile.id).items] == ["store", "email", "sms"]
    # the upgraded database keeps working: resolving, conversations, events, reports
    result = hub.ingest(make_interaction("later", Identifier.phone("+48601234567"), minutes=9))
    assert result.profile_id == profile.id
    assert result.conversation_id is not None
    assert hub.conversation(result.conversation_id).interaction_count == 1
    assert [e.type.value for e in hub.events()][-1] == "interaction.ingested"
    assert len(list(hub.scan())) == 4
    store.close()
    SQLStore(f"sqlite:///{path}").close()  # a second open finds nothing to do


def test_fresh_database_starts_at_the_current_version(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'new.db'}")
    assert store.schema_version == SCHEMA_VERSION
    assert "omnichannel_interactions_timeline" in _indexes(store.engine)
    assert "omnichannel_interactions_origin" not in _indexes(store.engine)
    store.close()


def test_version_5_drops_the_indexes_by_origin(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    store = SQLStore(f"sqlite:///{path}")
    hub = Hub(store)
    first = hub.ingest(make_interaction("m1", Identifier.phone("+48601234567")))
    store.close()
    conn = sqlite3.connect(path)  # the version 5 schema had two more indexes
    for table in ("interactions", "conversations"):
        conn.execute(
            f"CREATE INDEX omnichannel_{table}_origin "
            f"ON omnichannel_{table} (workspace, origin_profile_id)"
        )
    conn.execute("UPDATE omnichannel_meta SET value = '5' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    upgraded = SQLStore(f"sqlite:///{path}")
    assert upgraded.schema_version == SCHEMA_VERSION
    inspector = sa.inspect(upgraded.engine)
    for table in ("interactions", "conversations"):
        names = {str(i["name"]) for i in inspector.get_indexes(f"omnichannel_{table}")}
        assert f"omnichannel_{table}_origin" not in names
    hub = Hub(upgraded)
    again = hub.ingest(make_interaction("m2", Identifier.phone("+48601234567"), minutes=5))
    assert again.profile_id == first.profile_id
    upgraded.close()


def test_meta_table_without_a_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'odd.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE omnichannel_meta (key TEXT PRIMARY KEY, value TEXT)")
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="no schema version"):
        SQLStore(url)


@pytest.mark.postgres
def test_postgres_version_1_is_upgraded(postgres_engine: sa.Engine, table_prefix: str) -> None:
    store = SQLStore(postgres_engine, table_prefix=table_prefix)
    Hub(store).ingest(make_interaction("m1", Identifier.phone("+48601234567")))
    with postgres_engine.begin() as conn:  # turn it back into a version 1 schema
        conn.exec_driver_sql(f'DROP INDEX "{table_prefix}interactions_time"')
        conn.exec_driver_sql(
            f'ALTER TABLE "{table_prefix}interactions" DROP COLUMN conversation_id'
        )
        for table in (
            "reviews",
            "apart",
            "sharers",
            "blocking",
            "conversations",
            "consents",
            "events",
            "workspaces",
            "suppressions",
        ):
            conn.exec_driver_sql(f'DROP TABLE "{table_prefix}{table}"')
        conn.exec_driver_sql(f"UPDATE {table_prefix}meta SET value = '1'")
    upgraded = SQLStore(postgres_engine, table_prefix=table_prefix)
    assert upgraded.schema_version == SCHEMA_VERSION
    names = {
        str(i["name"])
        for i in sa.inspect(postgres_engine).get_indexes(f"{table_prefix}interactions")
    }
    assert f"{table_prefix}interactions_origin" not in names
    assert f"{table_prefix}interactions_time" in names
    hub = Hub(upgraded)
    assert hub.find(Identifier.phone("+48601234567")) is not None
    again = hub.ingest(make_interaction("m2", Identifier.phone("+48601234567"), minutes=5))
    assert again.conversation_id is not None
    assert len(list(hub.scan())) == 2


@pytest.mark.postgres
def test_postgres_version_5_drops_the_indexes_by_origin(
    postgres_engine: sa.Engine, table_prefix: str
) -> None:
    store = SQLStore(postgres_engine, table_prefix=table_prefix)
    first = Hub(store).ingest(make_interaction("m1", Identifier.phone("+48601234567")))
    with postgres_engine.begin() as conn:  # the version 5 schema had two more indexes
        for table in ("interactions", "conversations"):
            conn.exec_driver_sql(
                f'CREATE INDEX "{table_prefix}{table}_origin" '
                f'ON "{table_prefix}{table}" (workspace, origin_profile_id)'
            )
        conn.exec_driver_sql(f"UPDATE {table_prefix}meta SET value = '5'")
    upgraded = SQLStore(postgres_engine, table_prefix=table_prefix)
    assert upgraded.schema_version == SCHEMA_VERSION
    inspector = sa.inspect(postgres_engine)
    for table in ("interactions", "conversations"):
        names = {str(i["name"]) for i in inspector.get_indexes(f"{table_prefix}{table}")}
        assert f"{table_prefix}{table}_origin" not in names
    again = Hub(upgraded).ingest(
        make_interaction("m2", Identifier.phone("+48601234567"), minutes=5)
    )
    assert again.profile_id == first.profile_id
