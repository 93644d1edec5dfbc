"""Errors lakesmith reports to users.

Each error says what is wrong, where (file, line, dataset or flow) and, where there is one, what to
do about it. The CLI prints `str(error)` without a traceback for these classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lakesmith.source_location import SourceLocation


class LakesmithError(Exception):
    """Base class for errors meant for the user, printed without a traceback."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message + (f"\n  hint: {hint}" if hint else ""))


class UsageError(LakesmithError):
    """A command was given options it cannot act on (an unknown dataset or update, a value out
    of range); the CLI exits with status 2, as for any usage error."""


class SpecError(LakesmithError):
    """The pipeline spec (spark-pipeline.yml) is missing or invalid."""


class SourceLoadError(LakesmithError):
    """A pipeline source file could not be loaded."""

    def __init__(self, message: str, location: SourceLocation, *, hint: str | None = None) -> None:
        self.location = location
        super().__init__(f"{location}: {message}", hint=hint)


class SourceLoadErrors(LakesmithError):
    """Several source files could not be loaded: every one is named, in load order."""

    def __init__(self, errors: Sequence[SourceLoadError]) -> None:
        self.problems = [str(e) for e in errors]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} pipeline source files could not be loaded:\n"
                         f"{lines}")


class SqlDefinitionError(SourceLoadError):
    """A SQL definition file has a statement lakesmith cannot parse or does not support."""


class SqlRefError(LakesmithError):
    """A query's SQL could not be read to find the tables and files it reads; `line` and
    `column` (1-based, within the query's text) say where, when known."""

    def __init__(self, message: str, *, hint: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.line = line
        self.column = column
        super().__init__(message, hint=hint)


class GraphProblem:
    """One problem found while validating the dataflow graph."""

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def __repr__(self) -> str:
        return f"GraphProblem({str(self)!r})"


class GraphValidationError(LakesmithError):
    """The dataflow graph is invalid; carries every problem found, not just the first. `partial`
    is what could be built despite them (a `graph.build.PartialGraph`), so that analysis can
    find the problems of the other flows in the same run."""

    def __init__(self, problems: Sequence[GraphProblem], *, partial: Any = None) -> None:
        self.problems = list(problems)
        self.partial = partial
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"The pipeline graph is invalid ({count} problem{'s' * (count != 1)}):\n{lines}")


class NotSupportedYet(LakesmithError):
    """A feature that lakesmith parses but cannot run yet; never silently ignored."""


class EngineError(LakesmithError):
    """The Spark Connect engine could not be started or reached."""


class FlowFailed(LakesmithError):
    """A flow failed while running; names the flow and its dataset."""

    def __init__(self, flow: str, message: str, location: SourceLocation | None = None,
                 *, hint: str | None = None) -> None:
        self.flow = flow
        self.location = location
        where = f" (defined at {location})" if location else ""
        super().__init__(f"Flow '{flow}'{where} failed: {message}", hint=hint)


class InvalidDefinition(SourceLoadError):
    """A dataset or flow definition breaks a rule of its kind; raised where it is defined, by the
    definition's own class, whichever authoring style (Python, dlt, SQL) built it."""

    def __init__(self, problem: str, location: SourceLocation, *, hint: str | None = None) -> None:
        self.problem = problem  # without the location, for callers that re-raise it
        super().__init__(problem, location, hint=hint)
