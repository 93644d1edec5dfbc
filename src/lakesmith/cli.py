"""The `lakesmith` command line."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

from lakesmith import __version__
from lakesmith.errors import LakesmithError
from lakesmith.project import PipelineSpec, find_spec, load_spec
from lakesmith.stopping import EXIT_INTERRUPTED, SignalWatcher, command_stop_request

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode=None,
    help="Run Spark Declarative Pipelines and Databricks DLT pipelines locally on Delta Lake.",
)
class _PipeSafeStream(io.TextIOBase):  # an IO[str] for rich
    """Standard output that survives `lakesmith run | head -2`: once the reader has gone, output
    is dropped. A closed stdout is not a pipeline error; the update carries on."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._drop()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def _drop(self) -> None:
        self.reader_gone = True
        # Python flushes stdout at exit; point it at /dev/null so that fails quietly too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.stream.fileno())
        os.close(devnull)


def _console(stderr: bool = False) -> Console:
    # Pipes and CI logs get wide lines rather than rich's default of 80 columns.
    stream: Any = _PipeSafeStream(sys.stderr if stderr else sys.stdout)
    probe = Console(file=stream)
    return Console(file=stream, highlight=False, width=None if probe.is_terminal else 160)


console = _console()
err_console = _console(stderr=True)
# Ctrl-C and SIGTERM: watched for the whole command (see lakesmith.stopping, lakesmith.entry).
STOP = command_stop_request()

SpecOption = Annotated[Path | None, typer.Option(
    "--spec", help="Path to spark-pipeline.yml (default: found in the current directory or above).")]
RemoteOption = Annotated[str | None, typer.Option(
    "--remote", help="Spark Connect endpoint sc://host:port (default: $SPARK_REMOTE, else an "
    "embedded Sail engine).")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show engine logs.")]


_UNIT_SECONDS = {
    "ms": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
}


def parse_duration(text: str) -> float:
    """Seconds in '10s', '500ms', '1m', '2h', '10 seconds' or a plain number of seconds."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", text.lower())
    unit = match.group(2) or "s" if match else ""
    if not match or unit not in _UNIT_SECONDS:
        raise typer.BadParameter(f"'{text}' is not a duration such as 10s, 500ms or 1m.")
    return float(match.group(1)) * _UNIT_SECONDS[unit]


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@contextmanager
def _user_errors(verbose: bool, project_root: Path | None = None) -> Iterator[None]:
    """Print lakesmith errors as messages (paths relative to the project), not tracebacks."""
    try:
        yield
    except LakesmithError as e:
        if verbose:
            err_console.print_exception()
        err_console.print(f"[bold red]Error:[/bold red] {_relative(str(e))}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        # Only code that runs without lakesmith's signal watcher gets here (tests, embedding).
        err_console.print("[yellow]Aborted: running flows were stopped before committing.[/yellow]")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)


def _relative(text: str) -> str:
    cwd = os.getcwd().rstrip("/") + "/"
    return text.replace(cwd, "")


@app.command()
def init(name: Annotated[str, typer.Argument(help="Name of the new project directory.")]) -> None:
    """Create a runnable medallion example project."""
    from lakesmith.templates import create_project

    with _user_errors(False):
        path = create_project(Path.cwd(), name)
    console.print(f"Pipeline project '{name}' created in {path}. To run it:")
    console.print(f"  cd {name}\n  lakesmith run")
    console.print("Then land one more file and run again (only the new data is processed):")
    console.print("  python generate.py --next\n  lakesmith run")
    console.print("The same pipeline in SQL: cd sql && lakesmith run. See README.md.")


RefreshOption = Annotated[str | None, typer.Option(
    help="Comma-separated datasets to update (default: all).")]
FullRefreshOption = Annotated[str | None, typer.Option(
    help="Comma-separated datasets to reset and recompute.")]
FullRefreshAllOption = Annotated[bool, typer.Option(help="Reset and recompute every dataset.")]


@app.command()
def run(
    spec: SpecOption = None,
    remote: RemoteOption = None,
    verbose: VerboseOption = False,
    refresh: RefreshOption = None,
    full_refresh: FullRefreshOption = None,
    full_refresh_all: FullRefreshAllOption = False,
    continuous: Annotated[bool, typer.Option(
        help="Keep running micro-batches until Ctrl-C, instead of stopping when caught up.")] = False,
    trigger_interval: Annotated[str, typer.Option(
        help="With --continuous: time between cycles, e.g. 10s, 500ms, 1m.")] = "10s",
) -> None:
    """Run an update of the pipeline: refresh its tables."""
    from lakesmith.pipeline import open_pipeline
    from lakesmith.runtime.events import UpdateState
    from lakesmith.runtime.progress import ConsoleProgress, print_summary

    with _user_errors(verbose):
        with open_pipeline(spec, remote=remote, verbose=verbose) as pipeline:
            plan = pipeline.plan(refresh=_names(refresh), full_refresh=_names(full_refresh),
                                 full_refresh_all=full_refresh_all)
            console.print(f"Running pipeline '{pipeline.spec.name}' on "
                          f"{pipeline.engine.description}.", highlight=False)
            result = pipeline.run(plan, ConsoleProgress(console, pipeline.graph,
                                                        continuous=continuous),
                                  continuous=continuous,
                                  trigger_interval=parse_duration(trigger_interval), stop=STOP)
            print_summary(console, result, pipeline.graph)
    if result.state == UpdateState.CANCELED:
        # Ctrl-C is how a continuous update ends; a triggered one was cut short.
        raise typer.Exit(0 if continuous else 130)
    if result.state != UpdateState.COMPLETED:
        raise typer.Exit(1)


@app.command("dry-run")
def dry_run(spec: SpecOption = None, remote: RemoteOption = None,
            verbose: VerboseOption = False, refresh: RefreshOption = None,
            full_refresh: FullRefreshOption = None,
            full_refresh_all: FullRefreshAllOption = False) -> None:
    """Validate the pipeline, print its graph and what an update would do, writing nothing."""
    from lakesmith.pipeline import open_pipeline
    from lakesmith.runtime.display import print_graph, print_plan

    with _user_errors(verbose):
        with open_pipeline(spec, remote=remote, verbose=verbose) as pipeline:
            schemas = pipeline.analyze()
            print_graph(console, pipeline, schemas)
            console.print("[green]The pipeline graph is valid.[/green]")
            plan = pipeline.plan(refresh=_names(refresh), full_refresh=_names(full_refresh),
                                 full_refresh_all=full_refresh_all)
            print_plan(console, pipeline.plan_work(plan))


@app.command()
def tables(spec: SpecOption = None, remote: RemoteOption = None,
           verbose: VerboseOption = False) -> None:
    """List the pipeline's datasets with kind, location, Delta version and row count."""
    from lakesmith.pipeline import open_pipeline
    from lakesmith.runtime.display import print_tables

    with _user_errors(verbose):
        with open_pipeline(spec, remote=remote, verbose=verbose) as pipeline:
            print_tables(console, pipeline)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A SQL query; pipeline tables are known by name.")],
    spec: SpecOption = None, remote: RemoteOption = None, verbose: VerboseOption = False,
    max_rows: Annotated[int, typer.Option(help="Print at most this many rows.")] = 1000,
) -> None:
    """Run a SQL query over the pipeline's tables and its event log (`event_log`)."""
    from lakesmith.authoring.tracebacks import describe
    from lakesmith.engine.databricks_sql import EVENT_LOG_TABLE, to_engine_sql
    from lakesmith.engine.session import start_engine
    from lakesmith.pipeline import prepare_session
    from lakesmith.runtime.display import print_query
    from lakesmith.runtime.storage import PipelineStorage
    from lakesmith.storage_options import engine_environment
    from lakesmith.tables.catalog import TableCatalog
    from lakesmith.tables.delta import is_delta_table

    with _user_errors(verbose):
        pipeline_spec = _spec(spec)
        with start_engine(remote, verbose=verbose, conf=pipeline_spec.configuration,
                          environment=engine_environment(pipeline_spec.storage.options)) as engine:
            prepare_session(engine.spark, pipeline_spec)
            catalog = TableCatalog(pipeline_spec.warehouse, engine.spark)
            catalog.register_warehouse()
            events = PipelineStorage(pipeline_spec.storage, pipeline_spec.name).events
            if is_delta_table(events):
                catalog.register_path(EVENT_LOG_TABLE, events)
            try:
                print_query(console, engine.spark.sql(to_engine_sql(query)), max_rows)
            except Exception as e:  # the engine's error for the user's query
                raise LakesmithError(f"query failed: {describe(e)}") from e


def _spec(spec: Path | None) -> PipelineSpec:
    return load_spec(spec) if spec else load_spec(find_spec(Path.cwd()))


def _time(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@app.command()
def runs(spec: SpecOption = None,
         limit: Annotated[int, typer.Option(help="Show the newest N updates.")] = 20) -> None:
    """List the pipeline's updates: state, start, duration, rows written."""
    from lakesmith.runtime.eventlog_queries import read_events, updates
    from lakesmith.runtime.lock import lock_holder

    with _user_errors(False):
        storage = _spec(spec).storage
        summaries = updates(read_events(storage),
                            running=lock_holder(storage) is not None)[-limit:]
        table = Table(show_edge=False, box=None, pad_edge=False)
        for column in ("update", "state", "started", "duration", "rows written", "failed flows"):
            table.add_column(column, justify="right" if column in ("duration", "rows written")
                             else "left")
        for s in summaries:
            style = {"COMPLETED": "green", "FAILED": "red", "CANCELED": "yellow",
                     "KILLED": "red"}.get(s.state, "")
            duration = f"{s.duration_seconds:.2f}s" if s.duration_seconds is not None else "-"
            table.add_row(s.update_id, f"[{style}]{s.state}[/]" if style else s.state,
                          _time(s.started), duration, f"{s.rows_written:,}",
                          ", ".join(s.failed_flows))
        console.print(table if summaries else "No updates yet.")


@app.command()
def events(
    spec: SpecOption = None,
    update: Annotated[str | None, typer.Option(help="An update id (or prefix); default all.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="Only this event_type.")] = None,
    level: Annotated[str | None, typer.Option(help="Only this level (INFO, WARN, ERROR).")] = None,
    limit: Annotated[int, typer.Option(help="Show the newest N events.")] = 200,
) -> None:
    """Show events from the pipeline's event log."""
    from lakesmith.runtime.eventlog_queries import read_events, resolve_update

    with _user_errors(False):
        all_events = read_events(_spec(spec).storage)
        selected = all_events
        if update is not None:
            update_id = resolve_update(all_events, update)
            selected = [e for e in selected if e["origin"]["update_id"] == update_id]
        if type is not None:
            selected = [e for e in selected if e["event_type"] == type]
        if level is not None:
            selected = [e for e in selected if e["level"] == level.upper()]
        table = Table(show_edge=False, box=None, pad_edge=False)
        for column in ("timestamp", "update", "level", "event_type", "flow", "message"):
            table.add_column(column)
        for event in selected[-limit:]:
            table.add_row(_time(event["timestamp"]), event["origin"]["update_id"][:8],
                          event["level"], event["event_type"], event["origin"]["flow_name"] or "",
                          event["message"])
        console.print(table if selected else "No matching events.")


@app.command()
def quality(
    spec: SpecOption = None,
    update: Annotated[str | None, typer.Option(help="An update id (or prefix); default the latest.")] = None,
    min_pass_rate: Annotated[float | None, typer.Option(
        help="Exit with status 1 if any expectation's pass rate is below this (0..1).")] = None,
) -> None:
    """Data quality per dataset and expectation: passed, failed, pass rate."""
    from lakesmith.runtime.eventlog_queries import quality as quality_of
    from lakesmith.runtime.eventlog_queries import read_events, resolve_update

    with _user_errors(False):
        all_events = read_events(_spec(spec).storage)
        update_id = resolve_update(all_events, update)
        results = quality_of(all_events, update_id)
        table = Table(show_edge=False, box=None, pad_edge=False)
        for column in ("dataset", "expectation", "passed", "failed", "pass rate"):
            table.add_column(column, justify="left" if column in ("dataset", "expectation")
                             else "right")
        missed = []
        for r in results:
            below = min_pass_rate is not None and r.pass_rate < min_pass_rate
            if below:
                missed.append(r)
            rate = f"{r.pass_rate:.2%}"
            table.add_row(r.dataset, r.expectation, f"{r.passed:,}", f"{r.failed:,}",
                          f"[red]{rate}[/red]" if below else rate)
        console.print(f"Update {update_id}")
        console.print(table if results else "No expectations were evaluated in this update.")
    if missed:
        err_console.print(f"[red]{len(missed)} expectation(s) below the pass rate "
                          f"{min_pass_rate:.2%}: " + ", ".join(
                              f"{r.dataset}.{r.expectation} ({r.pass_rate:.2%})" for r in missed))
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print lakesmith's version."""
    console.print(f"lakesmith {__version__}")


def main(watcher: SignalWatcher | None = None) -> None:
    if watcher is None:  # started other than through lakesmith.entry
        watcher = SignalWatcher(STOP)
        watcher.install()
    watcher.say = lambda text: err_console.print(f"[yellow]{text}[/yellow]")
    try:
        app(prog_name="lakesmith")
        code = 0
    except SystemExit as e:
        if isinstance(e.code, str):
            err_console.print(e.code)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    # Exit without the interpreter's teardown: the engine is already stopped, and a Ctrl-C
    # during a slow teardown of the client's threads would kill the process mid-way.
    console.file.flush()
    err_console.file.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
    sys.exit(0)
