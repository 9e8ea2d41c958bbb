"""The ``vodkit`` command line: one module per command group, each a few lines over a service.

Every failure vodkit knows ends a command with one readable line on stderr, ``error: ...``
(``common.fail``), and a non-zero exit: 1 the asset FAILED, 2 the command could not be
carried out (usage, settings, access, a service that cannot be reached), 3 vodkit's own fault.
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
    captions,
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
from .common import EXIT_INTERNAL, app, fail, out, usage_error

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
        code = app(standalone_mode=False)  # Typer's own errors come here, to be worded as ours
    except VodkitError as exc:
        fail(str(exc))
    except typer.TyperException as exc:
        usage_error(exc)
    except typer.Abort:
        fail("aborted")
    except Exception as exc:  # a bug: one line here, the traceback at VODKIT_LOG_LEVEL=DEBUG
        log.debug("unexpected error", exc_info=True)
        fail(
            f"unexpected {type(exc).__name__}: {exc} (vodkit's own fault: "
            "VODKIT_LOG_LEVEL=DEBUG shows where)",
            EXIT_INTERNAL,
        )
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]
