"""The CLI's contract: commands, exactly one JSON object with --json, exit codes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import Vodkit
from tests.multitrack import bilingual_mkv
from vodkit.adapters.presets.file import default_presets_path

pytestmark = pytest.mark.e2e


def test_transcode_one_shot(vodkit: Vodkit, clips: dict[str, Path], tmp_path: Path) -> None:
    code, data = vodkit.json("transcode", str(clips["hd"]), "--out", str(tmp_path / "out"))
    assert code == 0 and data["status"] == "COMPLETED" and data["errors"] == []
    assert set(data["outputs"]) == {"hls", "dash", "mp4", "poster", "sprite"}
    for path in data["outputs"].values():
        assert Path(path).is_file() and Path(path).is_relative_to(tmp_path / "out")
    assert [(r["width"], r["height"], r["videoBitrate"]) for r in data["renditions"]] == [
        (1280, 720, 2_000_000),
        (854, 480, 1_000_000),
        (1280, 720, 1_500_000),
    ]
    assert data["assetId"]
    assert not (vodkit.data / "catalog.sqlite3").exists()  # no catalog involved


def test_transcode_of_something_else_fails_with_exit_code_1(vodkit: Vodkit, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("hello\n")
    code, data = vodkit.json("transcode", str(text), "--out", str(tmp_path / "out"))
    assert code == 1 and data["status"] == "FAILED"
    assert data["errors"][0]["code"] == "NotMedia" and data["errors"][0]["message"]


def test_ingest_wait_then_query(vodkit: Vodkit, clips: dict[str, Path]) -> None:
    code, data = vodkit.json("ingest", str(clips["small"]), "--uploader", "alice", "--wait")
    assert code == 0 and data["status"] == "COMPLETED"
    assert data["sourceKey"] == "uploads/alice/small.mp4"
    assert {"hls", "dash", "mp4", "poster", "sprite"} <= set(data["outputs"])
    assert all(Path(p).is_file() for p in data["outputs"].values())
    assert data["renditions"][0]["width"] == 320
    made = data["renditions"][0]  # what the rendition became, not only what was planned
    assert made["rateControl"] in ("QVBR", "CBR") and made["analysis"]
    assert made["averageBitrate"] > 0 and made["peakBitrate"] >= made["averageBitrate"]
    assert (vodkit.data / "uploads" / "alice" / "small.mp4").is_file()

    listed = vodkit.run("assets", "list").stdout.splitlines()
    assert len(listed) == 1 and data["assetId"] in listed[0] and "COMPLETED" in listed[0]
    assert vodkit.run("assets", "list", "--status", "FAILED").stdout == ""
    assert data["assetId"] in vodkit.run("assets", "list", "--uploader", "alice").stdout
    assert vodkit.run("assets", "list", "--uploader", "bob").stdout == ""
    shown = vodkit.run("assets", "show", data["assetId"])
    assert "COMPLETED" in shown.stdout and "master.m3u8" in shown.stdout
    assert data["duration"] == pytest.approx(2.0, abs=0.1)
    assert f"duration  0:00:02 ({data['duration']:.2f} s)" in shown.stdout
    assert f"({made['codecs']})" in shown.stdout and made["codecs"].startswith("avc1.")
    assert f"measured {made['averageBitrate'] // 1000} kb/s average" in shown.stdout
    (job,) = data["jobs"]  # the README's promise: show prints the asset's jobs
    assert re.search(rf"^job +{job['jobId']}  COMPLETE  100%", shown.stdout, re.M), shown.stdout
    again = vodkit.run("assets", "retry", data["assetId"])
    assert again.returncode == 2 and "only FAILED" in again.stderr


def test_assets_show_lists_the_tracks_and_what_was_skipped(vodkit: Vodkit, tmp_path: Path) -> None:
    source = bilingual_mkv(tmp_path, seconds=2)
    code, data = vodkit.json("ingest", str(source), "--uploader", "alice", "--wait")
    assert code == 0 and data["status"] == "COMPLETED" and data["kind"] == "video"
    assert [(t["type"], t["language"]) for t in data["tracks"]] == [
        ("audio", "en"), ("audio", "fr"), ("text", "en"),
    ]  # fmt: skip
    assert [s["codec"] for s in data["skipped"]] == ["hdmv_pgs_subtitle"]
    shown = vodkit.run("assets", "show", data["assetId"]).stdout
    assert 'track     audio en "English" (main, default, 2 ch; embedded)' in shown, shown
    assert 'track     audio fr "Fran\u00e7ais" (dub, 2 ch; embedded)' in shown
    assert 'track     text subtitles en "English" (subtitle; embedded)' in shown
    assert "skipped   text hdmv_pgs_subtitle (en): bitmap subtitles" in shown
    # the limits are settings: one audio track kept, the French one skipped and said so
    code, one = vodkit.json(
        "ingest", str(source), "--uploader", "bob", "--wait", env={"VODKIT_MAX_AUDIO_TRACKS": "1"}
    )
    assert code == 0 and one["status"] == "COMPLETED"
    assert [t["language"] for t in one["tracks"] if t["type"] == "audio"] == ["en"]
    assert ("audio", "fr", "more audio tracks than the limit of 1") in [
        (s["type"], s["language"], s["reason"]) for s in one["skipped"]
    ]


def test_ingest_without_wait_returns_at_once_with_the_asset_id(
    vodkit: Vodkit, clips: dict[str, Path]
) -> None:
    done = vodkit.run("ingest", str(clips["tiny"]), "--uploader", "carol")
    assert done.returncode == 0
    asset_id = done.stdout.strip()
    assert len(asset_id) == 36
    listed = vodkit.run("assets", "list").stdout.split()  # queued, not yet taken in
    assert listed[:2] == [asset_id, "PENDING"] and len(listed) == 5
    _, data = vodkit.json("ingest", str(clips["tiny"]), "--uploader", "carol", "--wait")
    assert data["assetId"] == asset_id and data["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.mp4", b"", "EmptyFile"),
        ("text.mp4", b"just text\n" * 50, "NotMedia"),
        ("random.mp4", os.urandom(50_000), "NotMedia"),
    ],
)
def test_bad_uploads_end_failed_with_a_reason(
    vodkit: Vodkit, tmp_path: Path, name: str, content: bytes, code: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    exit_code, data = vodkit.json("ingest", str(path), "--wait")
    assert exit_code == 1 and data["status"] == "FAILED"
    assert data["errors"][0]["code"] == code and data["errors"][0]["message"]
    refused = vodkit.run("assets", "retry", data["assetId"])  # the same upload, the same reason
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1
    assert f"{code}: {data['errors'][0]['message']}" in refused.stderr
    assert vodkit.json("assets", "show", data["assetId"])[1]["attempt"] == 1


@pytest.mark.parametrize("uploader", ["../../etc", "a/b", "", "-rf"])
def test_bad_keys_are_refused_before_anything_is_stored(
    vodkit: Vodkit, clips: dict[str, Path], uploader: str
) -> None:
    done = vodkit.run("ingest", str(clips["tiny"]), "--uploader", uploader)
    assert done.returncode == 2 and "error:" in done.stderr
    assert not any(p.is_file() for p in (vodkit.data / "uploads").rglob("*"))


def test_an_uploader_id_is_refused_naming_the_flag_and_the_rule(
    vodkit: Vodkit, clips: dict[str, Path]
) -> None:
    for command in (("ingest", str(clips["tiny"])), ("keys", "create")):
        done = vodkit.run(*command, "--uploader", "bad/name")
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
        assert "'--uploader'" in done.stderr and "letters, digits or . _ @ -" in done.stderr
        assert "object key" not in done.stderr


def test_every_error_is_one_line_in_one_format(vodkit: Vodkit, tmp_path: Path) -> None:
    for args, said in (
        (("assets", "show", "no-such-asset"), "error: no asset no-such-asset"),
        (("ingest", str(tmp_path / "missing.mp4")), "does not exist"),
        (("assets", "list", "--limit", "0"), "'--limit'"),
        (("transcode", str(tmp_path)), "'SOURCE': file"),
        (("transcode", "/etc/hostname"), "missing option '--out'"),
        (("no-such-command",), "no such command"),
        (("keys", "revoke"), "missing argument 'KEY_ID'"),
    ):
        done = vodkit.run(*args)
        assert done.returncode == 2, (args, done.stderr)
        (line,) = done.stderr.splitlines()
        assert line.startswith("error: ") and said in line, (args, line)
        assert "Usage:" not in done.stderr and "╭" not in done.stderr


def test_assets_list_is_a_table(vodkit: Vodkit, clips: dict[str, Path]) -> None:
    for uploader in ("al", "bartholomew", "cy"):
        assert vodkit.run("ingest", str(clips["tiny"]), "--uploader", uploader).returncode == 0
    lines = vodkit.run("assets", "list").stdout.splitlines()
    assert len(lines) == 3
    for column in (1, 2, 3, 4):  # every column starts where it starts on the first line
        starts = {
            [m.start() for m in re.finditer(r"(?<=  )\S", line)][column - 1] for line in lines
        }
        assert len(starts) == 1, lines


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(vodkit: Vodkit) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = vodkit.run("serve", "--no-worker", "--port", str(port))
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()  # no banner before it, no uvicorn after it
    assert line == (
        f"error: port {port} on 127.0.0.1 is in use: stop the program listening there, "
        "or choose another port with --port"
    )


def test_presets_show_and_a_bad_presets_file(vodkit: Vodkit, tmp_path: Path) -> None:
    shown = vodkit.run("presets", "show")
    assert json.loads(shown.stdout) == json.loads(default_presets_path().read_text())
    custom = json.loads(default_presets_path().read_text())
    custom["presets"]["hls"]["outputs"][0]["videoSettings"]["bitrate"] = -5
    bad = tmp_path / "presets.json"
    bad.write_text(json.dumps(custom))
    for command in (("presets", "show"), ("worker",), ("ingest", str(bad))):
        done = vodkit.run(*command, env={"VODKIT_PRESETS": str(bad)})
        assert done.returncode == 2
        assert "presets.hls.outputs[0].videoSettings.bitrate" in done.stderr


def test_settings_from_a_config_file_and_bad_settings(vodkit: Vodkit, tmp_path: Path) -> None:
    config = tmp_path / "vodkit.toml"
    config.write_text(f'data_dir = "{tmp_path / "from-file"}"\n')
    env = {"VODKIT_CONFIG": str(config)}
    env_without_dir = {k: v for k, v in vodkit.env.items() if k != "VODKIT_DATA_DIR"}
    vodkit.env = env_without_dir
    assert vodkit.run("assets", "list", env=env).returncode == 0
    assert (tmp_path / "from-file" / "catalog.sqlite3").exists()
    done = vodkit.run("assets", "list", env={"VODKIT_VISIBILITY_TIMEOUT": "-1"})
    assert done.returncode == 2 and "visibility_timeout" in done.stderr


def test_the_ffmpeg_is_chosen_by_configuration(
    vodkit: Vodkit, clips: dict[str, Path], tmp_path: Path
) -> None:
    from vodkit.adapters.transcoder.ffmpeg import ffmpeg_executable

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ffmpeg").symlink_to(ffmpeg_executable("bundled"))
    code, data = vodkit.json(
        "transcode", str(clips["tiny"]), "--out", str(tmp_path / "a"),
        env={"VODKIT_FFMPEG": "system", "PATH": f"{bin_dir}:{os.environ['PATH']}"},
    )  # fmt: skip
    assert code == 0 and data["status"] == "COMPLETED"
    missing = vodkit.run("worker", env={"VODKIT_FFMPEG": str(tmp_path / "nope")})
    assert missing.returncode == 2 and "cannot find the executable" in missing.stderr
    useless = vodkit.run(
        "transcode",
        str(clips["tiny"]),
        "--out",
        str(tmp_path / "b"),
        env={"VODKIT_FFMPEG": "/bin/true"},
    )
    assert useless.returncode == 2 and "lacks the libx264" in useless.stderr


def test_an_audio_only_upload_becomes_an_audio_asset(vodkit: Vodkit, tmp_path: Path) -> None:
    from tests.conftest import make_clip

    song = make_clip(tmp_path / "song.m4a", video=False, audio="stereo", seconds=2)
    code, data = vodkit.json("ingest", str(song), "--wait")
    assert code == 0 and data["status"] == "COMPLETED" and data["kind"] == "audio"
    assert set(data["outputs"]) == {"hls", "dash", "m4a", "poster"}
    shown = vodkit.run("assets", "show", data["assetId"])
    assert shown.returncode == 0, shown.stderr
    assert "kind      audio" in shown.stdout
    assert "rendition audio_128k: stream audio 128 kb/s (mp4a.40.2)" in shown.stdout
    assert "rendition preview: m4a audio 128 kb/s" in shown.stdout
    code, again = vodkit.json("assets", "show", data["assetId"])
    assert code == 0 and again["kind"] == "audio" and "sprite" not in again["outputs"]


def test_the_progress_bar_shows_percent_and_eta(vodkit: Vodkit, tmp_path: Path) -> None:
    from tests.conftest import make_clip

    clip = make_clip(tmp_path / "clip.mp4", size="1280x720", seconds=8)
    done = vodkit.run(
        "transcode", str(clip), "--out", str(tmp_path / "out"),
        env={"FORCE_COLOR": "1", "COLUMNS": "100", "VODKIT_X264_PRESET": "medium"},
    )  # fmt: skip
    assert done.returncode == 0
    plain = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", done.stderr).replace("\r", "\n")
    shown = re.findall(r"(\d+)% ETA (\d+:\d\d:\d\d)", plain)
    midway = [(int(p), eta) for p, eta in shown if 0 < int(p) < 100]
    assert len(midway) >= 2, shown  # the bar moved while FFmpeg ran, with an ETA


def test_an_unreachable_aws_endpoint_is_one_line_and_a_non_zero_exit(vodkit: Vodkit) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: the connection is refused
    env = {
        "VODKIT_BACKEND": "aws",
        "VODKIT_CATALOG_TABLE": "MediaAssets-dev",
        "VODKIT_PROCESSING_QUEUE_URL": f"http://127.0.0.1:{port}/1/q",
        "VODKIT_PROCESSING_DLQ_URL": f"http://127.0.0.1:{port}/1/dlq",
        "VODKIT_JOB_EVENTS_QUEUE_URL": f"http://127.0.0.1:{port}/1/e",
        "VODKIT_JOB_EVENTS_DLQ_URL": f"http://127.0.0.1:{port}/1/edlq",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for args in (("assets", "list"), ("assets", "show", "some-id"), ("dlq", "list")):
        done = vodkit.run(*args, env=env)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: cannot reach AWS"), done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
