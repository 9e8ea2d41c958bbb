"""``vodkit dlq``: the dead-lettered messages of every queue."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ...services.dead_letters import DeadLetters
from .common import JsonOption, app, err, footprint, out, printable
from .readable import Typer

dlq = Typer(help="Inspect and redrive dead-lettered messages.", no_args_is_help=True)
app.add_typer(dlq, name="dlq")


@dlq.command("list")
def dlq_list(as_json: JsonOption = False) -> None:
    """List dead-lettered messages of every queue."""
    letters = DeadLetters(footprint().queues).letters()
    if as_json:
        out.print(json.dumps({"deadLetters": [
            {"queue": d.queue, "id": d.id, "receiveCount": d.receive_count,
             "lastError": d.last_error, "body": d.body} for d in letters
        ]}))  # fmt: skip
        return
    for d in letters:
        out.print(
            f"{d.queue:<9}  {d.id}  receives={d.receive_count}  {printable(d.last_error)[:160]}",
            markup=False,
        )
    if not letters:
        err.print("no dead letters")


@dlq.command("redrive")
def dlq_redrive(
    ids: Annotated[list[str] | None, typer.Argument(help="Message ids (default: all).")] = None,
    queue: Annotated[
        str | None,
        typer.Option(help="Only this queue: ingest, transcode (embedded), job-events (aws)."),
    ] = None,
) -> None:
    """Move dead-lettered messages back to their queue."""
    moved = DeadLetters(footprint().queues).redrive(ids or None, queue)
    out.print(f"{moved} message(s) redriven")
