"""``vodkit watch``: ingest objects written straight into the uploads bucket."""

from __future__ import annotations

from typing import Annotated

import typer

from ...services.bucket_watch import Pass
from .. import worker as process
from .common import app, err, footprint


@app.command()
def watch(
    interval: Annotated[
        float, typer.Option(min=0.5, help="Seconds between passes over the bucket.")
    ] = 10.0,
    once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
) -> None:
    """Find uploads another program wrote into the bucket, and queue them (safe to run twice)."""
    vodkit = footprint()

    def report(done: Pass) -> None:
        if done.announced:
            err.print(f"{done.announced} new upload(s) queued ({done.listed} objects listed)")

    watcher = vodkit.watch_bucket(interval, report)
    if once:
        report(watcher.scan())
        return
    err.print(f"watching {vodkit.uploads.locate('uploads/')} every {interval:g} s (Ctrl-C to stop)")
    process.run(watcher)
