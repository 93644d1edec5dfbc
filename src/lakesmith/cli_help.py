"""`--help` as click writes it. Typer 0.29 shows a required argument as `{NAME}` in the usage line
and every argument with a type label (`NAME <str>`); lakesmith's arguments name what they hold
(`NAME`, `TABLE`, `[QUERY]`), which is all a reader needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer._click import Context, HelpFormatter, Parameter  # typer 0.29 vendors click
from typer.core import TyperCommand
from typer.models import CommandFunctionType


class PlainHelpCommand(TyperCommand):
    """A command whose arguments read `NAME` (required) or `[NAME]` (optional) in its help."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _name(param) + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((_name(param), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class LakesmithTyper(typer.Typer):
    """`typer.Typer` whose commands are `PlainHelpCommand`s."""

    def command(self, *args: Any, **kwargs: Any
                ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", PlainHelpCommand)
        return super().command(*args, **kwargs)


def _name(param: Parameter) -> str:
    return param.metavar or (param.name or "").upper()
