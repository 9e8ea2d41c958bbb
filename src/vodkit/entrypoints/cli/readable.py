"""Help as a manual reads: ``vodkit ingest [OPTIONS] FILE``, and no value type after a
flag. Typer writes a required argument as ``{file}`` and a flag as ``--wait <bool>``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

Handler = TypeVar("Handler", bound=Callable[..., Any])


def _readable(params: list[Any]) -> list[Any]:
    """A flag takes no value, so no type is shown after it (Typer shows ``<bool>``); an
    argument is named in capitals (``FILE``), as its help and its errors call it."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
        elif isinstance(param, TyperArgument) and param.metavar is None and param.name:
            param.metavar = param.name.upper()
    return params


class Command(TyperCommand):
    """A command whose help reads as a manual's: ``vodkit ingest [OPTIONS] FILE``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _readable(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):  # Typer writes a required one as {file}
                name = param.metavar or ""
                name = name if param.required else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
        return pieces


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _readable(super().get_params(ctx))


class Typer(typer.Typer):
    """A command group whose commands are vodkit's ``Command``."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cls=Group, **options)

    def command(self, *args: Any, **options: Any) -> Callable[[Handler], Handler]:
        return super().command(*args, **{"cls": Command, **options})
