"""``vodkit presets``: the encoding presets in force."""

from __future__ import annotations

import json

from ...config import Selection, load_settings
from ...footprints import load_presets
from .common import app, configure_logging, err, out
from .readable import Typer

presets = Typer(help="Encoding presets.", no_args_is_help=True)
app.add_typer(presets, name="presets")


@presets.command("show")
def presets_show() -> None:
    """Print the presets in force (the built-in ones, $VODKIT_PRESETS, or SSM's on aws)."""
    selection = load_settings(Selection)
    configure_logging(selection.log_level)
    found = load_presets()
    err.print(f"the presets in force on the {selection.backend} footprint")
    out.print(json.dumps(found.document, indent=2), markup=False)
