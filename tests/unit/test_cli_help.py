"""The CLI's help reads as a manual's: arguments in capitals, no value type after a flag."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from vodkit.entrypoints.cli import app


def command_paths(group: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from command_paths(command, (*path, name))


PATHS = list(command_paths(typer.main.get_command(app)))


def help_of(*path: str) -> str:
    done = CliRunner().invoke(app, [*path, "--help"], prog_name="vodkit", env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    return done.output


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "vodkit")
def test_no_flag_shows_a_value_type_and_no_usage_shows_braces(path: tuple[str, ...]) -> None:
    shown = help_of(*path)
    assert "<bool>" not in shown
    (usage,) = [line for line in shown.splitlines() if "Usage:" in line]
    assert "{" not in usage, usage


def test_arguments_are_named_in_capitals() -> None:
    assert "Usage: vodkit ingest [OPTIONS] FILE " in help_of("ingest") + " "
    assert "Usage: vodkit assets show [OPTIONS] ASSET_ID " in help_of("assets", "show") + " "
    assert "Usage: vodkit dlq redrive [OPTIONS] [IDS]..." in help_of("dlq", "redrive")
    assert len(PATHS) > 20  # every command was walked
