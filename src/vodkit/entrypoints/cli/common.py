"""What every command shares: the root app, its one error format, output, progress bars,
loading the footprint."""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from ...config import Selection, load_settings
from ...domain.asset import AssetStatus, JobState
from ...domain.errors import InvalidKey
from ...domain.keys import check_uploader_id
from ...footprints import App, load
from ...services.follow import Progress as Followed
from .readable import Typer

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_FAILED = 1  # the asset FAILED
EXIT_USAGE = 2  # the command could not be carried out: usage, settings, access, a service down
EXIT_INTERNAL = 3  # vodkit's own fault
app = Typer(
    help="vodkit: uploads in, adaptive HLS + DASH, MP4 preview, poster and sprite out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _uploader_id(value: str) -> str:
    try:
        return check_uploader_id(value)
    except InvalidKey as exc:  # said of the flag, not of the object key it would make
        raise typer.BadParameter(str(exc)) from None


def uploader_option(help: str) -> Any:
    """``--uploader``, checked as it is read: an error names the flag and the rule."""
    return typer.Option("--uploader", help=help, callback=_uploader_id)


def printable(text: str) -> str:
    """Untrusted strings (keys, file names) with control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """End the command the one way vodkit ends a failed command: ``error: ...``, one line
    on stderr, and ``code``."""
    err.print(f"error: {printable(message)}", markup=False)
    sys.exit(code)


def usage_error(exc: typer.TyperException) -> NoReturn:
    """A command line Typer refused (a missing argument, a bad value), worded as vodkit's
    own errors are, with where to read the command's usage."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # Typer has printed the help already
        sys.exit(exc.exit_code)
    message = exc.format_message().rstrip(".")
    message = message[:1].lower() + message[1:]
    context = getattr(exc, "ctx", None)
    if context is not None:
        message += f" (see {context.command_path} --help)"
    fail(message, exc.exit_code)


def configure_logging(level: str) -> None:
    """vodkit's own messages at ``level``; the libraries' (botocore...) only from WARNING,
    unless DEBUG is asked for."""
    level = level.upper()
    logging.basicConfig(
        level=level if level == "DEBUG" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("vodkit").setLevel(level)


def footprint() -> App:
    """The app of the footprint the settings choose."""
    configure_logging(load_settings(Selection).log_level)
    return load()


def _track_line(track: dict[str, Any]) -> str:
    flags = [f for f in ("default", "forced") if track.get(f)]
    kind = f" {track['kind']}" if track.get("kind") else ""
    channels = f", {track['channels']} ch" if track.get("channels") else ""
    roles = ", ".join([*track.get("roles", ()), *flags])
    return (
        f'{track["type"]}{kind} {track["language"]} "{printable(track["name"])}" '
        f"({roles}{channels}; {track['source']})"
    )


def print_asset(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print(json.dumps(data), markup=False)
        return
    out.print(f"asset     {data['assetId']}", markup=False)
    out.print(f"status    {data['status']}", markup=False)
    out.print(f"kind      {data.get('kind') or 'video'}", markup=False)
    if data.get("duration") is not None:
        out.print(f"duration  {eta(data['duration'])} ({data['duration']:.2f} s)", markup=False)
    if data.get("sourceKey"):
        out.print(f"source    {printable(data['sourceKey'])}", markup=False)
    for kind, path in data["outputs"].items():
        out.print(f"{kind:<9} {path}", markup=False)
    for r in data["renditions"]:
        audio = f" + audio {r['audioBitrate'] // 1000} kb/s" if r.get("audioBitrate") else ""
        codecs = f" ({printable(str(r['codecs']))})" if r.get("codecs") else ""
        if r.get("videoBitrate"):
            shape = f"{r['width']}x{r['height']} {r['videoBitrate'] // 1000} kb/s{audio}"
        else:  # an audio-only asset's: a rung of its ladder (stream) or its M4A
            shape = f"{r['kind']} audio {(r.get('audioBitrate') or 0) // 1000} kb/s"
        out.print(f"rendition {r['name']}: {shape}{codecs}", markup=False)
        if r.get("rateControl"):  # what the rendition became: rate control, quality, bits
            made = [r["rateControl"] + (f" CRF {r['crf']}" if r.get("crf") is not None else "")]
            if r.get("predictedVmaf") is not None:
                made.append(f"predicted VMAF {r['predictedVmaf']:g}")
            if r.get("averageBitrate"):
                made.append(
                    f"measured {r['averageBitrate'] // 1000} kb/s average, "
                    f"{(r.get('peakBitrate') or 0) // 1000} kb/s peak"
                )
            if r.get("analysis"):
                made.append(printable(str(r["analysis"])))
            out.print(f"          {'; '.join(made)}", markup=False)
    for track in data.get("tracks") or ():
        out.print(f"track     {_track_line(track)}", markup=False)
    for lost in data.get("skipped") or ():
        out.print(
            f"skipped   {lost['type']} {printable(lost['codec'])} ({lost['language']}): "
            f"{printable(lost['reason'])}",
            markup=False,
        )
    for job in data.get("jobs") or ():
        out.print(f"job       {_job_line(job)}", markup=False)
    chunks = (data.get("progress") or {}).get("chunks")
    if chunks:  # a chunked transcode (cluster), while it runs
        out.print(
            f"chunks    {chunks['done']} of {chunks['count']} done, {chunks['running']} running, "
            f"{chunks['retried']} retried",
            markup=False,
        )
    for (code, message), times in Counter(
        (e["code"], e["message"]) for e in data["errors"]
    ).items():  # one line per reason, however many attempts met it
        again = f" ({times} attempts)" if times > 1 else ""
        out.print(f"error     {code}: {printable(message)}{again}", markup=False)


ENDED = {str(state) for state in JobState if state.terminal}


def _job_line(job: dict[str, Any]) -> str:
    """A job as ``assets show`` lists it: id, state, progress and what else the view has."""
    parts = [str(job.get("jobId", "?")), str(job.get("state", "?"))]
    if job.get("percent") is not None:
        parts.append(f"{job['percent']:.0f}%")
    running = job.get("state") not in ENDED  # an ended job has no phase or time left
    if running and job.get("phase"):
        parts.append(str(job["phase"]))
    if running and job.get("etaSeconds") is not None:
        parts.append(f"ETA {eta(job['etaSeconds'])}")
    if job.get("runnerId"):
        parts.append(f"runner {printable(str(job['runnerId']))}")
    if job.get("restarts"):
        parts.append(f"restarted {job['restarts']}x")
    return "  ".join(parts)


def table(rows: list[list[str]]) -> list[str]:
    """Rows as lines of columns padded to their widest cell (the last one left as it is)."""
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False))
        + f"  {row[-1]}"
        for row in rows
    ]


def progress_bar() -> Progress:
    """Percent and ETA as FFmpeg's progress reports them (via the job's events)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("ETA {task.fields[eta]}"),
        console=err,
        transient=True,
    )


def eta(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def follow_on(bar: Progress, *, visible: bool = True) -> Any:
    """A progress bar's task, and the callback that moves it as the asset moves."""
    task = bar.add_task("queued", total=100, visible=visible, eta=eta(None))

    def update(seen: Followed) -> None:
        description = bar_description(seen)
        bar.update(task, completed=seen.percent, description=description, eta=eta(seen.eta_seconds))

    return update


def bar_description(seen: Followed) -> str:
    """What the bar says it is doing: a processing asset's phase (its percent is the
    phase's own), else its stage."""
    if seen.stage == "PROCESSING":
        return seen.phase or "transcoding"
    return seen.stage.lower()


def exit_for(status: str) -> None:
    if status in (AssetStatus.FAILED, AssetStatus.DELETED):
        raise typer.Exit(EXIT_FAILED)
