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
from rich.markup import escape

from lakesmith import __version__
from lakesmith.cli_help import LakesmithTyper
from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.exit_codes import EXIT_FAILED, exit_code_for
from lakesmith.output import OutputFormat
from lakesmith.project import PipelineSpec, find_spec, load_spec
from lakesmith.startup_gc import resume_collection
from lakesmith.stopping import EXIT_INTERRUPTED, SignalWatcher, command_stop_request

app = LakesmithTyper(
    no_args_is_help=True, rich_markup_mode=None,
    help="Run Spark Declarative Pipelines and Databricks DLT pipelines locally on Delta Lake.",
    epilog="Exit status: 0 done, 1 a flow or check failed, 2 usage or validation error, "
    "130 interrupted.",
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
    "--spec", metavar="PATH",
    help="Path to spark-pipeline.yml (default: found in the current directory or above).")]
RemoteOption = Annotated[str | None, typer.Option(
    "--remote", metavar="URL", help="Spark Connect endpoint sc://host:port (default: "
    "$SPARK_REMOTE, else an embedded Sail engine). Paths are then read and written by that "
    "engine, on its machine.")]
VerboseOption = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Show the update plan, engine logs and tracebacks.")]
ConfOption = Annotated[list[str] | None, typer.Option(
    "--conf", metavar="KEY=VALUE",
    help="Set a configuration key for this command, over the spec's (repeatable).")]


def _format_option(*formats: OutputFormat) -> Any:
    return typer.Option("--format", "-o", metavar="|".join(f.value for f in formats),
                        help="Output: " + ", ".join(f.value for f in formats) + ".",
                        case_sensitive=False)


TableFormat = Annotated[OutputFormat, _format_option(*OutputFormat)]
JsonFormat = Annotated[OutputFormat, _format_option(OutputFormat.TABLE, OutputFormat.JSON)]


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"lakesmith {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version_callback, is_eager=True,
        help="Print lakesmith's version and exit.")] = False) -> None:
    """Run Spark Declarative Pipelines and Databricks DLT pipelines locally on Delta Lake."""


def _conf(values: list[str] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values or []:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"'{value}' is not KEY=VALUE.", param_hint="--conf")
        result[key.strip()] = item
    return result


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
def _user_errors(verbose: bool, remote: str | None = None, *,
                 output: OutputFormat = OutputFormat.TABLE) -> Iterator[None]:
    """Print lakesmith errors as messages (paths relative to the project), not tracebacks, and
    exit with the status their kind calls for (see lakesmith.exit_codes); with --format json the
    error is a JSON object on standard output too."""
    resume_collection()  # the command's imports are done (startup_gc.py)
    if verbose:
        _show_lakesmith_logs()
    try:
        yield
    except LakesmithError as e:
        if verbose:
            err_console.print_exception()
        err_console.print(f"[bold red]Error:[/bold red] {escape(_relative(str(e)))}",
                          highlight=False, soft_wrap=True)
        _remote_note(remote)
        if output == OutputFormat.JSON:
            from lakesmith.output import write_json

            problems = [_relative(str(p)) for p in getattr(e, "problems", [])]
            write_json(console, {"error": {"type": type(e).__name__,
                                           "message": _relative(e.message), "hint": e.hint,
                                           "problems": problems}})
        raise typer.Exit(exit_code_for(e)) from None
    except KeyboardInterrupt:
        # Only code that runs without lakesmith's signal watcher gets here (tests, embedding).
        err_console.print("[yellow]Aborted: running flows were stopped before committing.[/yellow]")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)


def _show_lakesmith_logs() -> None:
    """-v: lakesmith's own logs (the SQL it sends, on `lakesmith.sql`) on standard error."""
    import logging

    handler = logging.StreamHandler(err_console.file)
    handler.set_name("lakesmith-cli")
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger = logging.getLogger("lakesmith")
    for old in [h for h in logger.handlers if h.get_name() == "lakesmith-cli"]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _remote_note(remote: str | None) -> None:
    if remote or os.environ.get("SPARK_REMOTE"):
        err_console.print(
            f"[dim]Note: the engine at {remote or os.environ.get('SPARK_REMOTE')} reads and writes "
            f"the project's paths (under {os.getcwd()}) on its own machine: relative paths are "
            "made absolute with this folder, which must exist at the same place there.[/dim]",
            highlight=False)


def _relative(text: str) -> str:
    cwd = os.getcwd().rstrip("/") + "/"
    return text.replace(cwd, "")


@app.command()
def init(name: Annotated[str, typer.Argument(
        metavar="NAME", help="Name of the new project directory.")]) -> None:
    """Create a runnable medallion example project."""
    from lakesmith.templates import create_project

    with _user_errors(False):
        path = create_project(Path.cwd(), name)
    console.print(f"Pipeline project '{name}' created in {path}. To run it:")
    console.print(f"  cd {name}\n  lakesmith run")
    console.print("Then land one more file and run again (only the new data is processed):")
    console.print("  python generate.py --next\n  lakesmith run")
    console.print("The same pipeline in SQL: cd sql && lakesmith run. See README.md.")


_SELECTORS = ("names, globs (silver_*), +NAME (with everything upstream) or NAME+ (with "
              "everything downstream)")
RefreshOption = Annotated[str | None, typer.Option(
    metavar="DATASETS", help=f"Comma-separated datasets to update (default: all): {_SELECTORS}.")]
FullRefreshOption = Annotated[str | None, typer.Option(
    metavar="DATASETS", help=f"Comma-separated datasets to reset and recompute: {_SELECTORS}.")]
FullRefreshAllOption = Annotated[bool, typer.Option(
    "--full-refresh-all", help="Reset and recompute every dataset.")]


@app.command()
def run(
    spec: SpecOption = None,
    remote: RemoteOption = None,
    verbose: VerboseOption = False,
    refresh: RefreshOption = None,
    full_refresh: FullRefreshOption = None,
    full_refresh_all: FullRefreshAllOption = False,
    continuous: Annotated[bool, typer.Option(
        "--continuous",
        help="Keep running micro-batches until Ctrl-C, instead of stopping when caught up.")] = False,
    trigger_interval: Annotated[str | None, typer.Option(
        metavar="DURATION",
        help="With --continuous: time between cycles, e.g. 10s, 500ms, 1m (default 10s).")] = None,
    conf: ConfOption = None,
) -> None:
    """Run an update of the pipeline: refresh its tables."""
    _load_logs_ahead(spec)
    from lakesmith.pipeline import open_pipeline
    from lakesmith.runtime.display import print_orphans_warning, print_plan
    from lakesmith.runtime.events import UpdateState
    from lakesmith.runtime.progress import ConsoleProgress, print_summary

    interval = _trigger_interval(trigger_interval, continuous)
    with _user_errors(verbose, remote):
        # Every build and analysis problem at once, as dry-run reports them; nothing runs.
        with open_pipeline(spec, remote=remote, verbose=verbose, configuration=_conf(conf),
                           analyze_invalid=True) as pipeline:
            plan = pipeline.plan(refresh=_names(refresh), full_refresh=_names(full_refresh),
                                 full_refresh_all=full_refresh_all)
            console.print(f"Running pipeline '{pipeline.spec.name}' on "
                          f"{pipeline.engine.description}.", highlight=False)
            print_orphans_warning(err_console, pipeline)
            if verbose:
                print_plan(console, pipeline.plan_work(plan))
            result = pipeline.run(plan, ConsoleProgress(console, pipeline.graph,
                                                        continuous=continuous),
                                  continuous=continuous, trigger_interval=interval, stop=STOP)
            print_summary(console, result, pipeline.graph)
    if result.state == UpdateState.CANCELED:
        # Ctrl-C is how a continuous update ends; a triggered one was cut short.
        raise typer.Exit(0 if continuous else EXIT_INTERRUPTED)
    if result.state != UpdateState.COMPLETED:
        _remote_note(remote)
        raise typer.Exit(EXIT_FAILED)


def _load_logs_ahead(spec: Path | None) -> None:
    """Start loading the Delta logs the pipeline's last update read, on threads, while the
    command imports the engine's client and loads the pipeline (`tables/logs_ahead.py`)."""
    from lakesmith.runtime.storage import PipelineStorage
    from lakesmith.tables.logs_ahead import load_ahead

    try:
        pipeline_spec = _spec(spec)
        if pipeline_spec.storage.is_local:  # (only local logs are loaded ahead)
            load_ahead(PipelineStorage(pipeline_spec.storage, pipeline_spec.name).delta_logs())
    except (LakesmithError, OSError, ValueError):  # a bad spec, storage or list: the command
        return  # reports it itself, after its imports, or loads each log when it reads it


def _trigger_interval(text: str | None, continuous: bool) -> float:
    """Seconds between a continuous update's cycles; a triggered update has no cycles."""
    from lakesmith.runtime.update import DEFAULT_TRIGGER_INTERVAL

    if text is None:
        return DEFAULT_TRIGGER_INTERVAL
    interval = parse_duration(text)
    if not continuous:
        err_console.print("[yellow]Warning: --trigger-interval applies only with --continuous; "
                          "this update runs once.[/yellow]")
    elif interval <= 0:
        raise typer.BadParameter(
            f"'{text}' is no time at all: a continuous update would recompute and commit without "
            "pause. Give a positive interval, e.g. 1s or 500ms.", param_hint="--trigger-interval")
    return interval


@app.command("dry-run")
def dry_run(spec: SpecOption = None, remote: RemoteOption = None,
            verbose: VerboseOption = False, refresh: RefreshOption = None,
            full_refresh: FullRefreshOption = None,
            full_refresh_all: FullRefreshAllOption = False, conf: ConfOption = None,
            output: JsonFormat = OutputFormat.TABLE) -> None:
    """Validate the pipeline, print its graph and what an update would do, writing nothing."""
    _load_logs_ahead(spec)
    from lakesmith.output import write_json
    from lakesmith.pipeline import open_pipeline
    from lakesmith.runtime.display import dry_run_record, print_graph, print_plan

    with _user_errors(verbose, remote, output=output):
        with open_pipeline(spec, remote=remote, verbose=verbose, configuration=_conf(conf),
                           analyze_invalid=True) as pipeline:
            schemas = pipeline.analyze()
            plan = pipeline.plan(refresh=_names(refresh), full_refresh=_names(full_refresh),
                                 full_refresh_all=full_refresh_all)
            planned = pipeline.plan_work(plan)
            unsupported = planned.not_supported()
            if output == OutputFormat.JSON:
                write_json(console, dry_run_record(pipeline, schemas, planned))
            else:
                print_graph(console, pipeline, schemas)
                console.print("[green]The pipeline graph is valid.[/green]")
                print_plan(console, planned)
            if unsupported:
                raise NotSupportedYet(
                    f"{len(unsupported)} flow(s) cannot run yet: " + "; ".join(
                        f"{p.flow.flow.location}: flow '{p.name}': {p.work.reason}"
                        for p in unsupported if p.work is not None))


@app.command()
def check(
    against: Annotated[str, typer.Option("--against", help="The engine to compare with: spark "
                                         "(a local Apache Spark 4.3 Connect server).")],
    sample: Annotated[int | None, typer.Option("--sample", min=1, help="Read only the first N "
                                               "rows of each input.")] = None,
    keep_scratch: Annotated[bool, typer.Option("--keep-scratch", help="Keep the folder with "
                                               "both engines' results.")] = False,
    spec: SpecOption = None, verbose: VerboseOption = False,
) -> None:
    """Compute every dataset on the embedded engine and on Apache Spark from the same inputs, and
    report per dataset whether the rows and schemas are identical (the first differing rows)."""
    from lakesmith.check.command import run_check
    from lakesmith.check.report import all_identical, print_report
    from lakesmith.check.spark_server import SparkUnavailable

    if against != "spark":
        raise typer.BadParameter("only --against spark is supported", param_hint="--against")
    with _user_errors(verbose):
        try:
            comparisons = run_check(spec, sample=sample, verbose=verbose,
                                    keep_scratch=keep_scratch,
                                    progress=lambda m: err_console.print(m, style="dim"))
        except SparkUnavailable as e:
            err_console.print(f"check skipped: {e.message}" + (f"\n  hint: {e.hint}" if e.hint
                                                               else ""),
                              markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from e
        print_report(console, comparisons)
    if not all_identical(comparisons):
        raise typer.Exit(1)


@app.command()
def tables(spec: SpecOption = None, remote: RemoteOption = None,
           verbose: VerboseOption = False, output: TableFormat = OutputFormat.TABLE,
           orphans: Annotated[bool, typer.Option(
               "--orphans", help="List only tables whose definition was removed from the "
               "sources (`lakesmith drop NAME` removes one).")] = False) -> None:
    """List the pipeline's datasets with kind, location, Delta version and row count."""
    from lakesmith.pipeline import open_pipeline
    from lakesmith.runtime.display import print_orphans, print_tables

    with _user_errors(verbose, remote, output=output):
        with open_pipeline(spec, remote=remote, verbose=verbose) as pipeline:
            if orphans:
                print_orphans(console, pipeline, output)
            else:
                print_tables(console, pipeline, output)


@app.command()
def graph(spec: SpecOption = None, remote: RemoteOption = None, verbose: VerboseOption = False,
          output: Annotated[str, typer.Option(
              "--format", "-o", metavar="text|mermaid|dot|json",
              help="text (the terminal), mermaid (Markdown), dot (Graphviz) or json.")] = "text",
          ) -> None:
    """Print the dataflow graph: datasets by kind, the flows between them (streams dashed),
    sources outside the pipeline and each dataset's expectations."""
    from lakesmith.graph.pictures import picture, to_dot, to_json, to_mermaid, to_text
    from lakesmith.pipeline import open_pipeline

    renderers = {"text": to_text, "mermaid": to_mermaid, "dot": to_dot, "json": to_json}
    if output.lower() not in renderers:
        raise typer.BadParameter(f"'{output}' is not one of text, mermaid, dot, json.",
                                 param_hint="--format")
    with _user_errors(verbose, remote):
        with open_pipeline(spec, remote=remote, verbose=verbose) as pipeline:
            text = renderers[output.lower()](picture(pipeline.graph, pipeline.spec.name))
    console.file.write(text)  # never wrapped or shortened: names stay whole when piped
    console.file.flush()


@app.command()
def drop(
    name: Annotated[str, typer.Argument(metavar="TABLE", help="A table whose definition was "
                                        "removed from the sources.")],
    spec: SpecOption = None, remote: RemoteOption = None, verbose: VerboseOption = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a table the sources no longer define: its Delta table, its quarantine table and its
    flows' checkpoints. Tables still defined are refused."""
    from lakesmith.pipeline import open_pipeline
    from lakesmith.runtime.orphans import drop_orphan, find_orphan, orphan_tables

    with _user_errors(verbose, remote):
        with open_pipeline(spec, remote=remote, verbose=verbose) as pipeline:
            found = orphan_tables(pipeline.spec.storage, pipeline.graph,
                                  pipeline.catalog)
            orphan = find_orphan(found, pipeline.graph, name)
            folders = orphan.folders(pipeline.storage)
            console.print(f"Dropping table '{orphan.dataset}' deletes:")
            for folder in folders:
                console.print(f"  {_relative(str(folder))}", highlight=False)
            if not yes and not typer.confirm("Delete them?", default=False):
                console.print("Nothing was deleted.")
                raise typer.Exit(EXIT_FAILED)
            with pipeline.storage.lock():
                drop_orphan(orphan, pipeline.storage)
            console.print(f"Table '{orphan.dataset}' was dropped.")


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(
        metavar="QUERY", help="SQL; pipeline tables are known by name. Several statements are "
        "separated by ';'. Omit it to read --file or standard input.")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", metavar="PATH", help="Run the statements of a SQL file ('-': stdin).")] = None,
    spec: SpecOption = None, remote: RemoteOption = None, verbose: VerboseOption = False,
    max_rows: Annotated[int, typer.Option(metavar="N", help="Print at most this many rows.")] = 1000,
    vertical: Annotated[bool, typer.Option(
        "--vertical", "-x", help="One field per line (for wide rows).")] = False,
    output: TableFormat = OutputFormat.TABLE,
) -> None:
    """Run SQL over the pipeline's tables and its event log (`event_log`), including Delta's
    DESCRIBE HISTORY/DETAIL, OPTIMIZE, VACUUM, RESTORE and CLUSTER BY."""
    from lakesmith.runtime.display import run_statements
    from lakesmith.sql_input import read_sql_input
    from lakesmith.user_session import session

    with _user_errors(verbose, remote, output=output):
        text = read_sql_input(query, file, sys.stdin)
        pipeline_spec = _spec(spec)
        spark = session(pipeline_spec.path, remote=remote, verbose=verbose)
        try:
            run_statements(console, err_console, spark, text, pipeline_spec,
                           max_rows=max_rows, vertical=vertical, output=output)
        finally:
            spark.stop()


@app.command()
def shell(spec: SpecOption = None, remote: RemoteOption = None,
          verbose: VerboseOption = False) -> None:
    """An interactive Python shell with `spark` on the project's engine (pipeline tables by name,
    `from delta.tables import DeltaTable` works)."""
    import code

    from lakesmith.user_session import session

    with _user_errors(verbose):
        spark = session(spec or _spec(None).path, remote=remote, verbose=verbose)
    from lakesmith.deltaspark import DeltaTable

    banner = (f"lakesmith {__version__}: `spark` is a Spark session on the project's engine; "
              "pipeline tables are known by name; DeltaTable is imported.")
    try:
        code.interact(banner=banner, local={"spark": spark, "DeltaTable": DeltaTable},
                      exitmsg="")
    finally:
        spark.stop()


@app.command()
def maintain(
    spec: SpecOption = None, remote: RemoteOption = None, verbose: VerboseOption = False,
    tables: Annotated[str | None, typer.Option(
        metavar="DATASETS", help="Comma-separated datasets to maintain (default: all).")] = None,
) -> None:
    """Run predictive optimization now: compaction, clustering and VACUUM where due, with why."""
    import uuid

    from lakesmith.pipeline import open_pipeline
    from lakesmith.runtime.eventlog import EventLog

    with _user_errors(verbose):
        with open_pipeline(spec, remote=remote, verbose=verbose) as pipeline:
            names = None
            if tables:
                from lakesmith.graph.identifiers import NameResolver

                resolver = NameResolver(pipeline.spec.catalog, pipeline.spec.schema)
                names = [resolver.qualify(n) for n in _names(tables)]
            with pipeline.storage.lock():
                event_log = EventLog(pipeline.storage, str(uuid.uuid4()), pipeline.graph,
                                     pipeline.plan())
                done = pipeline.maintain(event_log, names)
    if not done:
        console.print("No maintenance is due.")
    for table in done:
        for outcome in table.outcomes:
            what = f"{table.dataset}: {outcome.action.operation} because {outcome.action.reason}"
            if outcome.error:
                err_console.print(f"[red]{what}: failed: {outcome.error}[/red]")
            else:
                console.print(f"{what} ({', '.join(f'{k}={v}' for k, v in outcome.metrics.items())})")


def _spec(spec: Path | None) -> PipelineSpec:
    return load_spec(spec) if spec else load_spec(find_spec(Path.cwd()))


def _time(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


_STATE_STYLE = {"COMPLETED": "green", "FAILED": "red", "CANCELED": "yellow", "KILLED": "red"}


@app.command()
def runs(spec: SpecOption = None,
         limit: Annotated[int, typer.Option(metavar="N", help="Show the newest N updates.")] = 20,
         output: TableFormat = OutputFormat.TABLE) -> None:
    """List the pipeline's updates: state, start, duration, rows written."""
    from lakesmith.output import print_records
    from lakesmith.runtime.eventlog_queries import read_events, updates
    from lakesmith.runtime.lock import lock_holder

    with _user_errors(False, output=output):
        storage = _spec(spec).storage
        summaries = updates(read_events(storage),
                            running=lock_holder(storage) is not None)[-limit:]
        records = [{"update_id": s.update_id, "state": s.state, "started": s.started,
                    "ended": s.ended, "duration_seconds": s.duration_seconds,
                    "rows_written": s.rows_written, "failed_flows": s.failed_flows,
                    "error": s.error} for s in summaries]

        def state(r: dict[str, Any]) -> str:
            style = _STATE_STYLE.get(r["state"])
            return f"[{style}]{r['state']}[/]" if style else r["state"]

        print_records(console, output, records, [
            "update_id", "state", "started", "duration_seconds", "rows_written", "failed_flows"],
            cells={"state": state, "started": lambda r: _time(r["started"]),
                   "duration_seconds": lambda r: "-" if r["duration_seconds"] is None
                   else f"{r['duration_seconds']:.2f}s",
                   "failed_flows": lambda r: ", ".join(r["failed_flows"])},
            right=("duration_seconds", "rows_written"),
            headers={"update_id": "update", "duration_seconds": "duration"},
            empty="No updates yet.")


@app.command()
def events(
    spec: SpecOption = None,
    update: Annotated[str | None, typer.Option(
        metavar="ID", help="An update id (or prefix); default all.")] = None,
    type: Annotated[str | None, typer.Option(
        "--type", metavar="EVENT_TYPE", help="Only this event_type.")] = None,
    level: Annotated[str | None, typer.Option(
        metavar="LEVEL", help="Only this level (INFO, WARN, ERROR).")] = None,
    limit: Annotated[int, typer.Option(metavar="N", help="Show the newest N events.")] = 200,
    output: TableFormat = OutputFormat.TABLE,
) -> None:
    """Show events from the pipeline's event log (JSON and CSV carry each event's details)."""
    from lakesmith.output import print_records
    from lakesmith.runtime.eventlog_queries import read_events, resolve_update

    with _user_errors(False, output=output):
        all_events = read_events(_spec(spec).storage)
        selected = all_events
        if update is not None:
            update_id = resolve_update(all_events, update)
            selected = [e for e in selected if e["origin"]["update_id"] == update_id]
        if type is not None:
            selected = [e for e in selected if e["event_type"] == type]
        if level is not None:
            selected = [e for e in selected if e["level"] == level.upper()]
        records = [{"timestamp": e["timestamp"], "update_id": e["origin"]["update_id"],
                    "level": e["level"], "event_type": e["event_type"],
                    "flow_name": e["origin"]["flow_name"],
                    "dataset_name": e["origin"].get("dataset_name"), "message": e["message"],
                    "details": e["details_json"], "error": e["error"]}
                   for e in selected[-limit:]]
        print_records(console, output, records, [
            "timestamp", "update_id", "level", "event_type", "flow_name", "message",
            *(["details"] if output == OutputFormat.CSV else [])],
            cells={"timestamp": lambda r: _time(r["timestamp"]),
                   "update_id": lambda r: r["update_id"][:8],
                   "flow_name": lambda r: r["flow_name"] or ""},
            headers={"update_id": "update", "flow_name": "flow"}, empty="No matching events.")


def _at_least_one(value: int) -> int:
    if value < 1:
        raise typer.BadParameter(f"{value} is not a number of updates (1 or more).")
    return value


def _pass_rate(value: float | None) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise typer.BadParameter(
            f"{value:g} is not a fraction between 0 and 1 (for 95% write 0.95).",
            param_hint="--min-pass-rate")
    return value


@app.command()
def quality(
    spec: SpecOption = None,
    update: Annotated[str | None, typer.Option(
        metavar="ID", help="An update id (or prefix); default the latest.")] = None,
    last: Annotated[int, typer.Option(
        "--last", metavar="N", callback=_at_least_one,
        help="Look at the newest N updates (each checked).")] = 1,
    min_pass_rate: Annotated[float | None, typer.Option(
        metavar="FRACTION", callback=_pass_rate,
        help="Exit with status 1 if any expectation's pass rate is below this fraction (0..1).")
    ] = None,
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="Pass when no expectation was evaluated (otherwise status 1).")
    ] = False,
    output: TableFormat = OutputFormat.TABLE,
) -> None:
    """Data quality per dataset and expectation: action, passed, failed, pass rate. Exits with
    status 1 when a pass rate is below --min-pass-rate, or when nothing was evaluated."""
    from lakesmith.output import print_records
    from lakesmith.runtime.eventlog_queries import quality as quality_of
    from lakesmith.runtime.eventlog_queries import read_events, resolve_updates

    with _user_errors(False, output=output):
        if update is not None and last != 1:
            raise typer.BadParameter("give either --update or --last.", param_hint="--last")
        all_events = read_events(_spec(spec).storage)
        update_ids = resolve_updates(all_events, update, last)
        results = [r for update_id in update_ids for r in quality_of(all_events, update_id)]
        records = [{"update_id": r.update_id, "dataset": r.dataset, "expectation": r.expectation,
                    "action": r.action, "passed": r.passed, "failed": r.failed,
                    "pass_rate": r.pass_rate,
                    "below_min_pass_rate": min_pass_rate is not None
                    and r.pass_rate < min_pass_rate} for r in results]
        if output == OutputFormat.TABLE:
            console.print("Update " + ", ".join(update_ids) if len(update_ids) == 1
                          else f"Updates {update_ids[0]} … {update_ids[-1]} ({len(update_ids)})")

        def rate(r: dict[str, Any]) -> str:
            text = f"{r['pass_rate']:.2%}"
            return f"[red]{text}[/red]" if r["below_min_pass_rate"] else text

        print_records(console, output, records, [
            *(["update_id"] if len(update_ids) > 1 else []), "dataset", "expectation", "action",
            "passed", "failed", "pass_rate"],
            cells={"pass_rate": rate, "update_id": lambda r: r["update_id"][:8]},
            right=("passed", "failed", "pass_rate"),
            empty="No expectations were evaluated in " +
            ("this update." if len(update_ids) == 1 else "these updates."))
    missed = [r for r in records if r["below_min_pass_rate"]]
    if missed:
        err_console.print(f"[red]{len(missed)} expectation(s) below the pass rate "
                          f"{min_pass_rate:.2%}: " + ", ".join(
                              f"{r['dataset']}.{r['expectation']} ({r['pass_rate']:.2%})"
                              for r in missed) + "[/red]")
        raise typer.Exit(EXIT_FAILED)
    if not records and not allow_empty:
        err_console.print("[red]No expectation was evaluated, so there is no quality to "
                          "check.[/red] Pass --allow-empty if that is expected.")
        raise typer.Exit(EXIT_FAILED)


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
