"""``vodkit presets``: the encoding presets in force."""

from __future__ import annotations

import json

import typer

from .common import app, err, footprint, out

presets = typer.Typer(help="Encoding presets.", no_args_is_help=True)
app.add_typer(presets, name="presets")


@presets.command("show")
def presets_show() -> None:
    """Print the presets in force (the built-in ones, $VODKIT_PRESETS, or SSM's on aws)."""
    vodkit = footprint()
    err.print(f"the presets in force on the {vodkit.settings.backend} footprint")
    out.print(json.dumps(vodkit.presets.document, indent=2), markup=False)
