"""`--help` as click writes it. Typer 0.29 shows a required argument as `{NAME}` in the usage line,
every argument and option value with a type label (`NAME <str>`, `--sample <int range>`) and
ranges as `[x>=1]`; lakesmith's help names what a value is (`NAME`, `[QUERY]`, `--limit N`, an
option without a metavar by its own name) and says ranges in words (`at least 1`)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import typer
from typer._click import Context, HelpFormatter, Parameter  # typer 0.29 vendors click
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_name
from typer.models import CommandFunctionType


@dataclass(frozen=True)
class _ConvertedWhenGiven(RuntimeParam):
    """Typer 0.29 builds a pydantic converter for every parameter of the command that runs,
    given or not: about 0.08 s of CPU per command, pydantic's import included. This one builds
    typer's own converter for a value given only; without a value typer's answer (None, or ()
    for a parameter taking several) is `RuntimeParam.coerce`'s, before any converter."""

    descriptor: TypeDescriptor | None = None
    _built: list[RuntimeParam] = field(default_factory=list)

    def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
        if not self._built:
            assert self.descriptor is not None
            self._built.append(build_runtime_param(self.descriptor))
        return self._built[0]._coerce_value(value, param=param, ctx=ctx)


def _convert_when_given(params: list[Parameter]) -> None:
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is not None and getattr(param, "_runtime_param", False) is None:
            param._runtime_param = _ConvertedWhenGiven(  # type: ignore[attr-defined]
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation,
                descriptor=descriptor)


class PlainGroup(TyperGroup):
    """The `lakesmith` group: its options (`--version`, shell completion) converted when given."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        _convert_when_given(self.get_params(ctx))
        return super().parse_args(ctx, args)


class PlainHelpCommand(TyperCommand):
    """A command whose arguments read `NAME` (required) or `[NAME]` (optional) in its help."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        _convert_when_given(self.get_params(ctx))
        return super().parse_args(ctx, args)

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
                arguments.append((_name(param), _ranges_in_words(record[1])))
            else:
                # An option's value is named by its metavar, else by the option (`--sample
                # SAMPLE`), not typed (`--sample <int range>`).
                options.append((_TYPE_LABEL.sub(" " + _name(param), record[0]),
                                _ranges_in_words(record[1])))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class LakesmithTyper(typer.Typer):
    """`typer.Typer` whose commands are `PlainHelpCommand`s (in a `PlainGroup`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("cls", PlainGroup)
        super().__init__(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any
                ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", PlainHelpCommand)
        return super().command(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line, building only the command it names: typer builds every
        command's parameters from its signature before it parses anything (~12 ms for
        lakesmith's commands, on every start). Any other command line (`--help`, options
        first, a misspelled command) is answered with every command built, as before."""
        argv = kwargs.get("args")
        first = (list(argv) if argv is not None else sys.argv[1:])[:1]
        named = [info for info in self.registered_commands if first and first[0] ==
                 (info.name or get_command_name(info.callback.__name__ if info.callback
                                                else ""))]
        if not named:
            return super().__call__(*args, **kwargs)
        every, self.registered_commands = self.registered_commands, named
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.registered_commands = every


_TYPE_LABEL = re.compile(r" <[^<>]*>")
# click's number ranges (`[x>=1]`, `[1<=x<=9]`) as a reader would say them.
_RANGES = [(re.compile(r"\b(-?[\d.]+)<=x<=(-?[\d.]+)"), r"\1 to \2"),
           (re.compile(r"\bx>=(-?[\d.]+)"), r"at least \1"),
           (re.compile(r"\bx<=(-?[\d.]+)"), r"at most \1"),
           (re.compile(r"\bx>(-?[\d.]+)"), r"more than \1"),
           (re.compile(r"\bx<(-?[\d.]+)"), r"less than \1")]


def _ranges_in_words(text: str) -> str:
    for pattern, words in _RANGES:
        text = pattern.sub(words, text)
    return text


def _name(param: Parameter) -> str:
    return param.metavar or (param.name or "").upper()
