"""The ``vodkit`` command line: one module per command group, each a few lines over a service.

Every failure vodkit knows ends a command with one readable line on stderr and a
non-zero exit: 1 the asset FAILED, 2 the command could not be carried out
(usage, settings, access, a service that cannot be reached), 3 vodkit's own fault.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from ... import __version__
from ...domain.errors import VodkitError
from . import (  # noqa: F401
    assets,
    aws,
    db,
    demo,
    dlq,
    ingest,
    keys,
    presets,
    serve,
    transcode,
    watch,
    worker,
)
from .common import EXIT_INTERNAL, EXIT_USAGE, app, err, out, printable

log = logging.getLogger("vodkit.cli")


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()


def main() -> None:
    try:
        app()
    except VodkitError as exc:
        err.print(f"error: {printable(str(exc))}", markup=False)
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # a bug: one line here, the traceback at VODKIT_LOG_LEVEL=DEBUG
        log.debug("unexpected error", exc_info=True)
        err.print(f"internal error: {type(exc).__name__}: {printable(str(exc))}", markup=False)
        sys.exit(EXIT_INTERNAL)


__all__ = ["app", "main"]
