"""The chunk ledger in PostgreSQL (cluster footprint), in the catalog's database.

The last piece is found by one statement: the piece's row turns ``done`` only if it was
not (so a redelivered piece counts once), and only then is its job's ``remaining``
decremented, in the same statement. Two pieces finishing together update different piece
rows, then take turns on the job's row: each sees the other's decrement, and exactly one
sees ``remaining`` reach 0. No count is read and then written. One row per piece, so a
job may have as many chunks as ``domain.chunks.MAX_CHUNKS`` allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..postgresdb import PostgresDatabase
from .base import Piece

TABLES = """
CREATE TABLE chunk_jobs (
    job_id     TEXT PRIMARY KEY,
    asset_id   TEXT NOT NULL,
    remaining  INTEGER NOT NULL CHECK (remaining >= 0),
    stitches   INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM now())
);
CREATE INDEX chunk_jobs_by_asset ON chunk_jobs (asset_id, created_at);
CREATE TABLE chunk_pieces (
    job_id      TEXT NOT NULL REFERENCES chunk_jobs (job_id) ON DELETE CASCADE,
    piece       INTEGER NOT NULL,
    seconds     DOUBLE PRECISION NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    runs        INTEGER NOT NULL DEFAULT 0,
    attempt     INTEGER NOT NULL DEFAULT 0,
    started_at  DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    PRIMARY KEY (job_id, piece)
)
"""
FINISH = """
WITH marked AS (
    UPDATE chunk_pieces SET state = 'done', attempt = ?, finished_at = ?
     WHERE job_id = ? AND piece = ? AND state <> 'done'
    RETURNING job_id
)
UPDATE chunk_jobs SET remaining = remaining - 1
 WHERE job_id IN (SELECT job_id FROM marked)
RETURNING remaining
"""
BEGIN = """
UPDATE chunk_pieces SET runs = runs + 1, state = 'running', started_at = ?
 WHERE job_id = ? AND piece = ? AND state <> 'done'
RETURNING runs
"""


class PostgresChunkLedger:
    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    def start(self, asset_id: str, job_id: str, pieces: Mapping[int, float]) -> bool:
        with self.db.write() as conn:
            made = conn.execute(
                "INSERT INTO chunk_jobs (job_id, asset_id, remaining) VALUES (?, ?, ?)"
                " ON CONFLICT (job_id) DO NOTHING RETURNING job_id",
                (job_id, asset_id, len(pieces)),
            ).fetchone()
            if made is None:
                return False
            for piece, seconds in pieces.items():
                conn.execute(
                    "INSERT INTO chunk_pieces (job_id, piece, seconds) VALUES (?, ?, ?)",
                    (job_id, piece, seconds),
                )
            return True

    def begin(self, job_id: str, piece: int, at: float) -> int | None:
        with self.db.write() as conn:
            row = conn.execute(BEGIN, (at, job_id, piece)).fetchone()
            return None if row is None else int(row["runs"])

    def finish(self, job_id: str, piece: int, attempt: int, at: float) -> bool:
        with self.db.write() as conn:
            row = conn.execute(FINISH, (attempt, at, job_id, piece)).fetchone()
            return row is not None and int(row["remaining"]) == 0

    def pieces(self, job_id: str) -> list[Piece]:
        with self.db.reading() as conn:
            rows: list[Any] = conn.execute(
                "SELECT * FROM chunk_pieces WHERE job_id = ? ORDER BY piece < 0, abs(piece)",
                (job_id,),
            ).fetchall()
        return [
            Piece(
                piece=r["piece"], seconds=r["seconds"], state=r["state"], runs=r["runs"],
                attempt=r["attempt"], started_at=r["started_at"], finished_at=r["finished_at"],
            )
            for r in rows
        ]  # fmt: skip

    def latest(self, asset_id: str) -> str | None:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT job_id FROM chunk_jobs WHERE asset_id = ? ORDER BY created_at DESC LIMIT 1",
                (asset_id,),
            ).fetchone()
        return None if row is None else str(row["job_id"])

    def stitched(self, job_id: str) -> int:
        with self.db.write() as conn:
            row = conn.execute(
                "UPDATE chunk_jobs SET stitches = stitches + 1 WHERE job_id = ? RETURNING stitches",
                (job_id,),
            ).fetchone()
        return 0 if row is None else int(row["stitches"])

    def forget(self, job_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM chunk_jobs WHERE job_id = ?", (job_id,))
