"""``vodkit db``: the catalog's schema."""

from __future__ import annotations

from ...config import Selection, load_settings
from ...footprints import upgrade_database
from .common import app, configure_logging, err
from .readable import Typer

db = Typer(help="The catalog's database.", no_args_is_help=True)
app.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the catalog's pending migrations (safe to run from many nodes at once)."""
    selection = load_settings(Selection)
    configure_logging(selection.log_level)
    applied = upgrade_database()
    if applied is None:
        err.print(f"the {selection.backend} footprint's catalog migrates itself when opened")
    else:
        err.print(f"{applied} migration(s) applied; the catalog is up to date")
