"""Computing a pipeline on the embedded engine and on Apache Spark, and comparing the results.

Every stored dataset is computed as one batch (a streaming table as all its input at once, the
batch equivalent of its plan) in graph order, on each engine, from the same plans: the embedded
engine gets lakesmith's rewrites (`engine/semantics`), Apache Spark the plan as written. Reads of
pipeline datasets read that engine's own result; every other read (tables, files, Auto Loader)
reads one input snapshot taken once by the embedded engine (`--sample N`: its first N rows) as
Parquet, so both engines see the same rows. Results are written as Parquet to a scratch folder
and compared in the embedded engine (rows as multisets, EXCEPT ALL both ways); only the first
differing rows come back to Python."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.authoring.tracebacks import describe
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import Binding, PlanRead, PlanRewriter, RelationBinding, relation_of
from lakesmith.engine.stateful import batch_equivalent
from lakesmith.graph.datasets import Table
from lakesmith.graph.graph import DataflowGraph
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location, folder_name
from lakesmith.quality.expectations import ExpectationSet
from lakesmith.runtime.binding import DatasetBinder
from lakesmith.runtime.schema import written
from lakesmith.sources.registry import is_file_stream_format

FIRST_DIFFERENCES = 5


@dataclass
class Comparison:
    """One dataset's result on both engines."""

    dataset: str
    status: str  # identical | different | failed | skipped
    reason: str = ""
    lakesmith_schema: list[tuple[str, str]] = field(default_factory=list)
    spark_schema: list[tuple[str, str]] = field(default_factory=list)
    lakesmith_rows: int | None = None
    spark_rows: int | None = None
    only_lakesmith: list[dict[str, Any]] = field(default_factory=list)
    only_spark: list[dict[str, Any]] = field(default_factory=list)


class InputSnapshots:
    """Each external read, taken once (by the embedded engine) as Parquet in `folder`."""

    def __init__(self, folder: Path, sample: int | None) -> None:
        self.folder = folder
        self.sample = sample
        self._paths: dict[tuple[Any, ...], Path] = {}
        self._counter = itertools.count()

    def path(self, read: PlanRead, take: Callable[[], Any] | None) -> Path:
        key = (read.name, read.format, read.paths, tuple(sorted(read.options.items())),
               read.schema)
        if key not in self._paths:
            if take is None:
                raise RuntimeError(f"no snapshot of {read.describe()} was taken")
            path = self.folder / f"input-{next(self._counter)}"
            df = take()
            if self.sample is not None:
                df = df.limit(self.sample)
            df.write.mode("overwrite").parquet(engine_path(Location.parse(str(path))))
            self._paths[key] = path
        return self._paths[key]


class CheckBinder(DatasetBinder):
    """Binds a flow's reads for one engine of the check: datasets to this engine's results,
    everything else to the shared input snapshots (taken by the engine that `takes_snapshots`)."""

    def __init__(self, graph: DataflowGraph, spark: Any, project: Location, results: Path,
                 snapshots: InputSnapshots, *, lakesmith: bool) -> None:
        super().__init__(graph, spark, project)
        self.rewriter = PlanRewriter(spark, self, semantics=lakesmith)
        self.results = results
        self.snapshots = snapshots
        self.lakesmith = lakesmith

    def __call__(self, read: PlanRead) -> Binding | None:
        if self.dataset_of(read) is not None:
            return super().__call__(read)
        take = (lambda: self.external_dataframe(read)) if self.lakesmith else None
        path = self.snapshots.path(read, take)
        return RelationBinding(relation_of(self.spark.read.parquet(
            engine_path(Location.parse(str(path))))))

    def external_dataframe(self, read: PlanRead) -> Any:
        """The read as lakesmith runs it (a stream as every row available now)."""
        if is_file_stream_format(read.format):
            return self.files_dataframe(PlanRead(**{**read.__dict__, "streaming": False}))
        if read.name is not None:
            return self.spark.read.table(read.name)
        paths = [p if "://" in p else engine_path(Location.parse(p, base=self.project))
                 for p in read.paths]
        reader = self.spark.read.format(read.format or "parquet").options(**read.options)
        if read.schema:
            reader = reader.schema(read.schema)
        return reader.load(paths if len(paths) != 1 else paths[0])

    def bind_table(self, name: TableName, read: PlanRead) -> Binding:
        return RelationBinding(relation_of(self.spark.read.parquet(self.result_path(name))))

    def result_path(self, name: TableName) -> str:
        return engine_path(Location.parse(str(self.results / folder_name(str(name)))))

    def prepare(self, relation: proto.Relation) -> proto.Relation:
        return batch_equivalent(super().prepare(relation))

    def compute(self, name: TableName) -> list[tuple[str, str]]:
        """The dataset's result (its flows' results, kept rows only), written as Parquet; its
        columns (name, type)."""
        frames = []
        dataset = self.graph.dataset(name)
        assert isinstance(dataset, Table)  # stored datasets only
        for flow in self.graph.flows_into(name):
            df = written(self.spark, self.flow_dataframe(flow), dataset)
            frames.append(ExpectationSet.for_flow(self.graph, flow).kept(df))
        combined = frames[0]
        for frame in frames[1:]:
            combined = combined.unionByName(frame, allowMissingColumns=True)
        combined.write.mode("overwrite").parquet(self.result_path(name))
        return [(f.name, f.dataType.simpleString()) for f in combined.schema.fields]


def check_pipeline(graph: DataflowGraph, lakesmith_spark: Any, spark: Any, project: Location,
                   scratch: Path, sample: int | None,
                   progress: Callable[[str], None] = lambda _: None) -> list[Comparison]:
    """Every stored dataset computed by both engines and compared, in graph order."""
    snapshots = InputSnapshots(scratch / "inputs", sample)
    ours = CheckBinder(graph, lakesmith_spark, project, scratch / "lakesmith", snapshots,
                       lakesmith=True)
    theirs = CheckBinder(graph, spark, project, scratch / "spark", snapshots, lakesmith=False)
    comparisons: list[Comparison] = []
    failed: set[TableName] = set()
    try:
        for name in _stored_in_order(graph):
            shown = graph.dataset(name).name
            progress(shown)
            flows = graph.flows_into(name)
            if any(f.relation is None or f.is_auto_cdc for f in flows):
                comparisons.append(Comparison(shown, "skipped", "AUTO CDC flows are not compared "
                                              "yet"))
                failed.add(name)
                continue
            upstream = set().union(*(f.upstream for f in flows))
            if upstream & failed:
                comparisons.append(Comparison(shown, "skipped", "an upstream dataset was not "
                                              "computed on both engines"))
                failed.add(name)
                continue
            comparison = _compare_dataset(shown, name, ours, theirs, lakesmith_spark)
            if comparison.status == "failed":
                failed.add(name)
            comparisons.append(comparison)
    finally:
        ours.close()
        theirs.close()
    return comparisons


def _stored_in_order(graph: DataflowGraph) -> list[TableName]:
    order: list[TableName] = []
    for flow in graph.topological_flows():
        if graph.kind(flow.target).is_stored and flow.target not in order:
            order.append(flow.target)
    return order


def _compare_dataset(shown: str, name: TableName, ours: CheckBinder, theirs: CheckBinder,
                     spark: Any) -> Comparison:
    try:
        our_schema = ours.compute(name)
    except Exception as e:  # the embedded engine's error: reported for this dataset
        return Comparison(shown, "failed", f"lakesmith: {describe(e)}")
    try:
        their_schema = theirs.compute(name)
    except Exception as e:  # Spark's error: reported for this dataset
        return Comparison(shown, "failed", f"Apache Spark: {describe(e)}",
                          lakesmith_schema=our_schema)
    a = spark.read.parquet(ours.result_path(name))
    b = spark.read.parquet(theirs.result_path(name))
    comparison = Comparison(shown, "identical", lakesmith_schema=our_schema,
                            spark_schema=their_schema, lakesmith_rows=a.count(),
                            spark_rows=b.count())
    if [n for n, _ in our_schema] != [n for n, _ in their_schema]:
        comparison.status, comparison.reason = "different", "the columns differ"
        return comparison
    if our_schema != their_schema:
        comparison.status, comparison.reason = "different", "the column types differ"
        # rows are still compared, as text
        a = a.select([F.col(f"`{n}`").cast("string") for n, _ in our_schema])
        b = b.select([F.col(f"`{n}`").cast("string") for n, _ in our_schema])
    comparison.only_lakesmith = [r.asDict() for r in a.exceptAll(b).limit(FIRST_DIFFERENCES)
                                 .collect()]
    comparison.only_spark = [r.asDict() for r in b.exceptAll(a).limit(FIRST_DIFFERENCES)
                             .collect()]
    if comparison.only_lakesmith or comparison.only_spark:
        comparison.status = "different"
        comparison.reason = "; ".join(filter(None, [comparison.reason, "the rows differ"]))
    return comparison
