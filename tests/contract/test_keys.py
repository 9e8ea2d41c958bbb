"""One contract, every key store: the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from vodkit.adapters.catalog.postgres import catalog_database as postgres_database
from vodkit.adapters.catalog.sqlite import catalog_database as sqlite_database
from vodkit.adapters.keys.base import KeyStore
from vodkit.adapters.keys.memory import MemoryKeyStore
from vodkit.adapters.keys.sql import SqlKeyStore
from vodkit.domain.access import ApiKey, digest


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "memory":
        yield MemoryKeyStore()
    elif request.param == "postgres":
        db = postgres_database(request.getfixturevalue("postgres_dsn"))
        yield SqlKeyStore(db)
        db.close()
    else:
        yield SqlKeyStore(sqlite_database(tmp_path / "catalog.sqlite3"))


def key(key_id: str, created_at: str, *, uploader: str = "alice", admin: bool = False) -> ApiKey:
    return ApiKey(key_id, uploader, admin, digest(f"secret-{key_id}"), created_at)


def test_a_key_reads_back_as_it_was_added(keys: KeyStore) -> None:
    admin = key("k1", "2026-01-01T00:00:00Z", uploader="root", admin=True)
    keys.add(admin)
    keys.add(key("k2", "2026-01-01T00:00:01Z"))
    assert keys.get("k1") == admin
    assert keys.get("k2") == key("k2", "2026-01-01T00:00:01Z")
    assert keys.get("k2").admin is False  # type: ignore[union-attr]
    assert keys.get("missing") is None


def test_all_keys_newest_first_ties_by_id(keys: KeyStore) -> None:
    assert keys.all() == []
    for key_id, at in [("b", "2026-01-02"), ("a", "2026-01-01"), ("c", "2026-01-02")]:
        keys.add(key(key_id, at))
    assert [k.key_id for k in keys.all()] == ["c", "b", "a"]


def test_a_key_is_revoked_once(keys: KeyStore) -> None:
    keys.add(key("k1", "2026-01-01"))
    assert keys.revoke("k1", "2026-02-01") is True
    assert keys.revoke("k1", "2026-03-01") is False  # already: the first time stands
    assert keys.revoke("missing", "2026-03-01") is False
    assert keys.get("k1") == replace(key("k1", "2026-01-01"), revoked_at="2026-02-01")
    assert [k.revoked_at for k in keys.all()] == ["2026-02-01"]


def test_an_ended_session_is_remembered_until_it_would_have_expired(keys: KeyStore) -> None:
    assert keys.session_ended("h1") is False
    keys.end_session("h1", expires=100.0, now=10.0)
    keys.end_session("h2", expires=500.0, now=20.0)
    assert keys.session_ended("h1") and keys.session_ended("h2")
    assert not keys.session_ended("h3")
    keys.end_session("h3", expires=600.0, now=100.0)  # h1 has expired by now: forgotten
    assert not keys.session_ended("h1")
    assert keys.session_ended("h2") and keys.session_ended("h3")
    keys.end_session("h2", expires=500.0, now=200.0)  # ended twice: no error, still ended
    assert keys.session_ended("h2")
