"""A stream of asset changes (the server-sent events' source): every event has its own id,
and a reader that resumes after one gets what followed it, nothing it had, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from vodkit.domain.asset import Asset, AssetStatus
from vodkit.services.follow import Change, Seen, changes

Script = dict[str, list[Seen[str] | None]]  # per asset: what each read finds, then the last


def asset(asset_id: str, status: AssetStatus, stamp: str = "2026-01-01T00:00:00Z") -> Asset:
    return Asset(asset_id, status, "alice", f"uploads/alice/{asset_id}", stamp, stamp)


def seen(asset_id: str, status: AssetStatus, percent: float | None = None) -> Seen[str]:
    return Seen(asset(asset_id, status), (status, percent), f"{asset_id}:{status}:{percent}",
                progressing=percent is not None)  # fmt: skip


def run(script: Script, *, resume: str | None = None, seen_: bool = False) -> list[Change[str]]:
    reads = dict.fromkeys(script, 0)

    async def read(left: tuple[str, ...]) -> list[Seen[str] | None]:
        found = []
        for asset_id in left:
            states = script[asset_id]
            found.append(states[min(reads[asset_id], len(states) - 1)])
            reads[asset_id] += 1
        return found

    async def collect() -> list[Change[str]]:
        stream = changes(list(script), read, seen=seen_, resume=resume, poll=0)
        return [change async for change in stream]

    return asyncio.run(collect())


def progressing(asset_id: str) -> list[Seen[str] | None]:
    return [seen(asset_id, AssetStatus.PENDING)] + [
        seen(asset_id, AssetStatus.PROCESSING, p) for p in (0.0, 25.0, 50.0, 75.0)
    ] + [seen(asset_id, AssetStatus.COMPLETED)]  # fmt: skip


def test_every_progress_event_has_its_own_id() -> None:
    changes = run({"a": progressing("a")}, seen_=True)
    assert [c.kind for c in changes] == ["status", *["progress"] * 4, "status"]
    assert len({c.cursor for c in changes}) == len(changes)


def test_a_reader_resuming_after_an_event_gets_what_followed_it_and_nothing_it_had() -> None:
    whole = run({"a": progressing("a")}, seen_=True)
    for cut in range(len(whole)):
        # reconnecting: the asset stands where it stood at the cut, then goes on
        rest = run({"a": progressing("a")[cut:]}, seen_=True, resume=whole[cut].cursor)
        assert [c.seen.shown for c in rest if c.seen] == [
            c.seen.shown for c in whole[cut + 1 :] if c.seen
        ], cut


def test_a_stream_of_several_resumes_each_asset_where_its_reader_left_it() -> None:
    def script() -> Script:
        return {"a": progressing("a"), "b": [None, None, *progressing("b")], "gone": [
            seen("gone", AssetStatus.PENDING), None]}  # fmt: skip

    whole = run(script())
    kinds = [(c.kind, c.asset_id) for c in whole]
    assert ("missing", "b") in kinds and ("deleted", "gone") in kinds
    assert len({c.cursor for c in whole}) == len(whole)
    cut = next(i for i, c in enumerate(whole) if c.kind == "deleted")
    sent = {(c.kind, c.asset_id, c.seen.shown if c.seen else None) for c in whole[: cut + 1]}
    latest: Callable[[str], list[Seen[str] | None]] = lambda i: script()[i][-1:]  # noqa: E731
    rest = run({i: latest(i) for i in ("a", "b", "gone")}, resume=whole[cut].cursor)
    for change in rest:  # nothing twice; the deleted one is not told again, nor missing
        assert (
            change.kind,
            change.asset_id,
            change.seen.shown if change.seen else None,
        ) not in sent
        assert change.asset_id != "gone"
    assert {c.seen.shown for c in rest if c.seen} == {"a:COMPLETED:None", "b:COMPLETED:None"}


def test_a_cursor_of_another_stream_replays_everything() -> None:
    one = run({"a": [seen("a", AssetStatus.COMPLETED)]})
    again = run({"a": [seen("a", AssetStatus.COMPLETED)], "b": [seen("b", AssetStatus.FAILED)]},
                resume=one[0].cursor)  # fmt: skip
    assert [c.asset_id for c in again] == ["a", "b"]
    assert run({"a": [seen("a", AssetStatus.COMPLETED)]}, resume="garbage")[0].asset_id == "a"


def test_a_state_that_comes_back_on_a_retry_is_told_again() -> None:
    first = seen("a", AssetStatus.PROCESSING, 50.0)
    retried = replace(first, asset=replace(first.asset, attempt=2, updated_at="2026-01-02"))
    changes = run({"a": [first, retried, seen("a", AssetStatus.COMPLETED)]}, seen_=True)
    assert [c.seen.shown for c in changes if c.seen][:2] == [first.shown, retried.shown]


def test_a_write_that_changes_neither_status_nor_progress_is_no_event() -> None:
    touched = [
        Seen(asset("a", AssetStatus.PROCESSING, f"2026-01-01T00:00:0{n}Z"),
             (AssetStatus.PROCESSING, 50.0), "a:PROCESSING:50.0", progressing=True)
        for n in range(3)
    ]  # fmt: skip
    changes = run({"a": [*touched, seen("a", AssetStatus.COMPLETED)]}, seen_=True)
    assert [c.kind for c in changes] == ["progress", "status"]
