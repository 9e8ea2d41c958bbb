"""One contract, every signing secret: in memory, a file (embedded), PostgreSQL (cluster)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vodkit.adapters.catalog.postgres import catalog_database as postgres_database
from vodkit.adapters.signing.base import SigningSecret
from vodkit.adapters.signing.file import FileSigningSecret
from vodkit.adapters.signing.memory import MemorySigningSecret
from vodkit.adapters.signing.sql import SqlSigningSecret


@pytest.fixture(params=["memory", "file", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], SigningSecret]]:
    """Opens the same store again, as another process of the deployment would."""
    if request.param == "memory":
        shared = MemorySigningSecret()
        yield lambda: shared
    elif request.param == "file":
        yield lambda: FileSigningSecret(tmp_path / "secret.key")
    else:
        db = postgres_database(request.getfixturevalue("postgres_dsn"))
        yield lambda: SqlSigningSecret(db)
        db.close()


def test_the_secret_is_made_once_and_the_same_for_every_reader(
    opener: Callable[[], SigningSecret],
) -> None:
    first = opener().get()
    assert len(first) == 32
    assert opener().get() == first == opener().get()


def test_readers_starting_at_once_agree_on_one_secret(
    opener: Callable[[], SigningSecret],
) -> None:
    seen: list[bytes] = []
    threads = [threading.Thread(target=lambda: seen.append(opener().get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and len(seen) == 8


def test_the_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    FileSigningSecret(tmp_path / "secret.key").get()
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
