"""The PostgreSQL catalog under load: racing completions, and listings that use indexes."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vodkit.adapters.catalog.postgres import PostgresCatalog, catalog_database
from vodkit.domain.asset import Asset, AssetStatus, Job, JobState

T0 = datetime(2026, 12, 1, tzinfo=UTC)
ROUNDS = 1000


@pytest.fixture
def catalog(postgres_dsn: str) -> Iterator[PostgresCatalog]:
    db = catalog_database(postgres_dsn, max_size=4)
    yield PostgresCatalog(db)
    db.close()


def _asset(asset_id: str, uploader: str = "u", minute: int = 0) -> Asset:
    return Asset.new(asset_id=asset_id, uploader_id=uploader, source_key=f"uploads/{uploader}/{asset_id}.mp4",
                     source_bucket="b", source_version="v", filename=f"{asset_id}.mp4", file_size=1,
                     now=T0 + timedelta(minutes=minute))  # fmt: skip


def test_1000_racing_last_job_completions_complete_each_asset_exactly_once(
    catalog: PostgresCatalog,
) -> None:
    for i in range(ROUNDS):
        catalog.create(_asset(f"a{i}"))
        catalog.start_processing(
            f"a{i}", [Job(f"a{i}-j{j}", JobState.SUBMITTED) for j in range(2)], formats=["hls"],
            renditions=[], now=T0,
        )  # fmt: skip
    barrier = threading.Barrier(2)
    won: list[list[bool]] = [[], []]

    def complete(side: int) -> None:
        for i in range(ROUNDS):
            barrier.wait()  # both jobs of the asset finish at the same moment
            won[side].append(catalog.complete_job(f"a{i}", f"a{i}-j{side}", {"hls": "x"}, T0))

    threads = [threading.Thread(target=complete, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert [a + b for a, b in zip(won[0], won[1], strict=True)] == [1] * ROUNDS
    assert 0 < sum(won[0]) < ROUNDS  # both sides won some: the race was real
    assert {a.status for a in catalog.query(limit=ROUNDS + 1)} == {AssetStatus.COMPLETED}
    completions = Counter(
        e.asset_id
        for e in catalog.events_after(0, limit=10 * ROUNDS)
        if e.type == "asset.completed"
    )
    assert sorted(completions.values()) == [1] * ROUNDS


def test_status_and_uploader_listings_use_indexes(
    catalog: PostgresCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.create(_asset("seed"))
    with catalog.db.write() as conn:  # 20 000 more rows, as the planner sees a real catalog
        conn.execute(
            "INSERT INTO assets (asset_id, status, uploader_id, source_bucket, source_key,"
            " source_version, filename, file_size, attempt, created_at, updated_at)"
            " SELECT 'x' || n, (ARRAY['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'])"
            "[1 + mod(n, 4)], 'uploader' || mod(n, 200), 'b', 'uploads/k' || n, 'v', 'f.mp4',"
            " 1, 1, to_char(timestamp '2026-01-01' + n * interval '1 minute',"
            " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '2026-01-01T00:00:00Z'"
            " FROM generate_series(1, 20000) AS n"
        )
        conn.execute("ANALYZE assets")
    statements: list[tuple[str, tuple[Any, ...]]] = []
    run = PostgresCatalog._run

    def recording(self: PostgresCatalog, conn: Any, sql: str, args: Any = ()) -> Any:
        if sql.startswith("SELECT * FROM assets"):
            statements.append((sql, tuple(args)))
        return run(self, conn, sql, args)

    monkeypatch.setattr(PostgresCatalog, "_run", recording)
    page = catalog.query(status=AssetStatus.FAILED, limit=50)
    assert len(page) == 50 and {a.status for a in page} == {AssetStatus.FAILED}
    mine = catalog.query(uploader_id="uploader7", limit=50)
    assert len(mine) == 50 and {a.uploader_id for a in mine} == {"uploader7"}
    catalog.query(
        uploader_id="uploader7", limit=50, before=(mine[-1].created_at, mine[-1].asset_id)
    )
    assert len(statements) == 3
    with catalog.db.reading() as conn:
        for sql, args in statements:
            plan = "\n".join(
                row["QUERY PLAN"] for row in conn.execute(f"EXPLAIN {sql}", args).fetchall()
            )
            assert "Seq Scan" not in plan, plan
            assert "assets_by_status" in plan or "assets_by_uploader" in plan, plan


def test_migrations_apply_in_order_once_even_from_several_nodes_at_once(postgres_dsn: str) -> None:
    from vodkit.adapters.catalog.postgres import MIGRATIONS

    databases = [catalog_database(postgres_dsn, upgrade=False) for _ in range(4)]
    applied: list[int] = []
    threads = [threading.Thread(target=lambda d=d: applied.append(d.upgrade())) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(applied) == [0, 0, 0, len(MIGRATIONS)]  # one node applied them all
    assert databases[0].upgrade() == 0
    with databases[0].reading() as conn:
        versions = [
            r["version"]
            for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")
        ]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    for db in databases:
        db.close()
