import pytest

from vodkit.domain.errors import InvalidKey
from vodkit.domain.keys import asset_id_for, job_id_for, parse_upload_key, upload_key, validate_key


def test_the_upload_layout_is_parsed() -> None:
    key = parse_upload_key("uploads/alice/My Clip (1).mp4")
    assert (key.uploader_id, key.filename) == ("alice", "My Clip (1).mp4")
    assert upload_key("bob", "a.mov") == "uploads/bob/a.mov"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "clip.mp4",
        "uploads/clip.mp4",
        "other/alice/clip.mp4",
        "uploads/alice/sub/clip.mp4",
        "uploads/../etc/passwd",
        "uploads/alice/../../etc/passwd",
        "/uploads/alice/clip.mp4",
        "uploads//clip.mp4",
        "uploads/alice/.hidden",
        "uploads/al ice/clip.mp4",
        "uploads/alice/clip\x00.mp4",
        "uploads/alice/clip\n.mp4",
        "uploads\\alice\\clip.mp4",
        "uploads/alice/" + "x" * 300,
    ],
)
def test_bad_keys_are_refused_with_a_reason(key: str) -> None:
    with pytest.raises(InvalidKey) as info:
        parse_upload_key(key)
    assert str(info.value)


def test_validate_key_allows_unicode_but_not_traversal() -> None:
    assert validate_key("uploads/zoë/vidéo 🎬.mp4")
    with pytest.raises(InvalidKey):
        validate_key("a/./b")


def test_ids_are_deterministic_and_distinct() -> None:
    a = asset_id_for("bucket", "uploads/a/x.mp4", "v1")
    assert a == asset_id_for("bucket", "uploads/a/x.mp4", "v1")
    assert a != asset_id_for("bucket", "uploads/a/x.mp4", "v2")
    assert a != asset_id_for("other", "uploads/a/x.mp4", "v1")
    # no ambiguity from concatenation
    assert asset_id_for("b", "ab", "c") != asset_id_for("ba", "b", "c")
    assert job_id_for(a, 1) == job_id_for(a, 1) != job_id_for(a, 2)
