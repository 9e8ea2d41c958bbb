from dataclasses import replace
from datetime import UTC, datetime

import pytest

from vodkit.domain.asset import Asset, AssetError, AssetStatus, check_transition, sources_of
from vodkit.domain.errors import IllegalTransition

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def new_asset() -> Asset:
    return Asset.new(
        asset_id="a1",
        uploader_id="alice",
        source_key="uploads/alice/x.mp4",
        source_bucket="b",
        source_version="etag",
        filename="x.mp4",
        file_size=10,
        now=NOW,
    )


def test_a_new_asset_is_pending_with_a_sortable_timestamp() -> None:
    asset = new_asset()
    assert asset.status is AssetStatus.PENDING
    assert asset.created_at == "2026-01-02T03:04:05.678901Z"


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ([AssetStatus.PROCESSING, AssetStatus.COMPLETED], True),
        ([AssetStatus.PROCESSING, AssetStatus.FAILED, AssetStatus.PENDING], True),
        ([AssetStatus.FAILED], True),
        ([AssetStatus.COMPLETED], False),
        ([AssetStatus.PROCESSING, AssetStatus.COMPLETED, AssetStatus.FAILED], False),
        ([AssetStatus.PROCESSING, AssetStatus.PENDING], False),
        ([AssetStatus.PROCESSING, AssetStatus.PROCESSING], False),
    ],
)
def test_transitions(path: list[AssetStatus], ok: bool) -> None:
    def walk() -> Asset:
        asset = new_asset()
        for status in path:
            asset = asset.transition(status, NOW)
        return asset

    if ok:
        assert walk().status is path[-1]
    else:
        with pytest.raises(IllegalTransition):
            walk()


def test_sources_match_the_transition_table() -> None:
    assert sources_of(AssetStatus.COMPLETED) == {AssetStatus.PROCESSING}
    assert sources_of(AssetStatus.FAILED) == {AssetStatus.PENDING, AssetStatus.PROCESSING}
    assert sources_of(AssetStatus.PENDING) == {AssetStatus.FAILED}
    check_transition(AssetStatus.PENDING, AssetStatus.PROCESSING)


def test_the_item_has_the_original_designs_fields_and_round_trips() -> None:
    asset = replace(new_asset().transition(AssetStatus.PROCESSING, NOW), duration=4.02)
    asset = Asset.from_item(
        {**asset.to_item(), "errors": [AssetError("X", "bad", "t", "j").to_item()]}
    )
    item = asset.to_item()
    for name in [
        "assetId",
        "status",
        "uploaderId",
        "sourceKey",
        "createdAt",
        "updatedAt",
        "fileSize",
        "duration",
        "jobIds",
        "formats",
        "outputs",
        "errors",
    ]:
        assert name in item
    assert Asset.from_item(item) == asset
    assert asset.errors[0] == AssetError("X", "bad", "t", "j")
