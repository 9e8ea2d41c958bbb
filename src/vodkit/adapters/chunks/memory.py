"""An in-memory chunk ledger, for unit tests."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace

from .base import Piece


class MemoryChunkLedger:
    def __init__(self) -> None:
        self.jobs: dict[str, tuple[str, int, dict[int, Piece]]] = {}  # asset, stitches, pieces
        self.lock = threading.Lock()

    def start(self, asset_id: str, job_id: str, pieces: Mapping[int, float]) -> bool:
        with self.lock:
            if job_id in self.jobs:
                return False
            rows = {p: Piece(p, s, "pending", 0, 0, None, None) for p, s in pieces.items()}
            self.jobs[job_id] = (asset_id, 0, rows)
            return True

    def begin(self, job_id: str, piece: int, at: float) -> int | None:
        with self.lock:
            row = self.jobs.get(job_id, ("", 0, {}))[2].get(piece)
            if row is None or row.state == "done":
                return None
            self.jobs[job_id][2][piece] = replace(
                row, state="running", runs=row.runs + 1, started_at=at
            )
            return row.runs + 1

    def finish(self, job_id: str, piece: int, attempt: int, at: float) -> bool:
        with self.lock:
            rows = self.jobs.get(job_id, ("", 0, {}))[2]
            row = rows.get(piece)
            if row is None or row.state == "done":
                return False
            rows[piece] = replace(row, state="done", attempt=attempt, finished_at=at)
            return all(r.state == "done" for r in rows.values())

    def pieces(self, job_id: str) -> list[Piece]:
        with self.lock:
            rows = self.jobs.get(job_id, ("", 0, {}))[2]
            return sorted(rows.values(), key=lambda p: (p.piece < 0, abs(p.piece)))

    def latest(self, asset_id: str) -> str | None:
        with self.lock:
            found = [job for job, (asset, _, _) in self.jobs.items() if asset == asset_id]
            return found[-1] if found else None

    def stitched(self, job_id: str) -> int:
        with self.lock:
            asset, count, rows = self.jobs[job_id]
            self.jobs[job_id] = (asset, count + 1, rows)
            return count + 1

    def forget(self, job_id: str) -> None:
        with self.lock:
            self.jobs.pop(job_id, None)
