"""The medallion example (`examples/medallion`, what `lakesmith init` writes), in Python and in
SQL, over two runs: every table's rows and the expectations' counts in the event log, checked
exactly against an independent computation from the landing files in plain Python."""

from __future__ import annotations

import datetime
import filecmp
import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import Project
from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import quality, read_events, updates
from lakesmith.runtime.events import UpdateState
from lakesmith.templates import create_project

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "src" / "lakesmith" / "templates" / "medallion"
EXPECTATIONS = {"positive_amount": lambda e: e["amount"] is not None and e["amount"] > 0,
                "known_customer": lambda e: e["customer_id"] is not None}


def landed(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file name, event) for every JSON line, numbers with a fraction read as Decimal."""
    return [(path.name, json.loads(line, parse_float=Decimal))
            for path in sorted(folder.glob("*.json")) for line in path.read_text().splitlines()]


def typed(event: dict[str, Any]) -> dict[str, Any]:
    """The silver columns of one order event, as the pipeline's casts give them."""
    timestamp = datetime.datetime.fromisoformat(event["order_timestamp"])
    return {"order_id": event["order_id"], "customer_id": event["customer_id"],
            "amount": Decimal(event["amount"]).quantize(Decimal("0.01")), "currency": "EUR",
            "order_timestamp": timestamp, "order_date": timestamp.date(),
            "channel": event["channel"]}


def passes(order: dict[str, Any]) -> bool:
    return all(check(order) for check in EXPECTATIONS.values())


def silver_orders(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each order_id once (a re-sent event is an exact copy), without the failing ones."""
    first: dict[int, dict[str, Any]] = {}
    for event in events:
        first.setdefault(event["order_id"], typed(event))
    return sorted((o for o in first.values() if passes(o)), key=lambda o: o["order_id"])


def expectation_counts(orders: list[dict[str, Any]], dataset: str) -> dict[tuple, tuple]:
    return {(dataset, name): (sum(map(check, orders)), sum(not check(o) for o in orders))
            for name, check in EXPECTATIONS.items()}


def scd2(changes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Databricks' SCD type 2 rule, every column tracked: an upsert that changes a value closes
    the open version at its sequence number and opens one; a delete closes it."""
    by_key: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        by_key[change["customer_id"]].append(change)
    rows: list[dict[str, Any]] = []
    for key, events in by_key.items():
        current: dict[str, Any] | None = None
        for event in sorted(events, key=lambda e: e["sequence_num"]):
            values = {"customer_id": key, "name": event["name"], "email": event["email"],
                      "country": event["country"]}
            if current is not None and (event["operation"] == "DELETE" or
                                        {k: current[k] for k in values} != values):
                current["__END_AT"] = event["sequence_num"]
                rows.append(current)
                current = None
            if event["operation"] != "DELETE" and current is None:
                current = {**values, "__START_AT": event["sequence_num"], "__END_AT": None}
        if current is not None:
            rows.append(current)
    return sorted(rows, key=lambda r: (r["customer_id"], r["__START_AT"]))


def expected_tables(landing: Path) -> dict[str, list[dict[str, Any]]]:
    orders = silver_orders(event for _, event in landed(landing / "orders"))
    customers = scd2(event for _, event in landed(landing / "customers"))
    current = sorted(({k: r[k] for k in ("customer_id", "name", "email", "country")}
                      for r in customers if r["__END_AT"] is None), key=lambda r: r["customer_id"])
    daily: dict[datetime.date, list] = defaultdict(lambda: [Decimal(0), 0])
    per_customer: dict[int, list] = defaultdict(lambda: [0, Decimal(0), datetime.date.min])
    for order in orders:
        daily[order["order_date"]][0] += order["amount"]
        daily[order["order_date"]][1] += 1
        stats = per_customer[order["customer_id"]]
        stats[0] += 1
        stats[1] += order["amount"]
        stats[2] = max(stats[2], order["order_date"])
    names = {c["customer_id"]: c for c in current}
    return {
        "silver_orders": orders,
        "silver_customers": customers,
        "gold_current_customers": current,
        "gold_daily_revenue": sorted(({"order_date": day, "revenue": revenue, "orders": count}
                                      for day, (revenue, count) in daily.items()),
                                     key=lambda r: r["order_date"]),
        "gold_customer_orders": sorted((
            {"customer_id": key, "orders": count, "revenue": revenue, "last_order_date": last,
             "name": names.get(key, {}).get("name"), "country": names.get(key, {}).get("country")}
            for key, (count, revenue, last) in per_customer.items()),
            key=lambda r: r["customer_id"]),
    }


def naive(row: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as the session (UTC) wrote them, without their time zone, for comparison."""
    return {k: v.replace(tzinfo=None) if isinstance(v, datetime.datetime) else v
            for k, v in row.items()}


def actual(project: Project, table: str, order_by: list[str]) -> list[dict[str, Any]]:
    return [naive(r) for r in project.rows(table, order_by=order_by)]


ORDER = {"silver_orders": ["order_id"], "silver_customers": ["customer_id", "__START_AT"],
         "gold_current_customers": ["customer_id"], "gold_daily_revenue": ["order_date"],
         "gold_customer_orders": ["customer_id"]}


def check_bronze(project: Project, landing: Path) -> None:
    """Every landed line once, columns as strings as written, with its file and ingestion time."""
    rows = project.rows("bronze_orders")
    got = sorted((r["order_id"], r["amount"], r["customer_id"], Path(r["_source_file"]).name)
                 for r in rows)
    lines = [(name, line) for path in sorted((landing / "orders").glob("*.json"))
             for name, line in [(path.name, x) for x in path.read_text().splitlines()]]
    want = sorted((str(e["order_id"]), str(e["amount"]),
                   None if e["customer_id"] is None else str(e["customer_id"]), name)
                  for name, e in ((n, json.loads(x, parse_float=str)) for n, x in lines))
    assert got == want
    folder = (landing / "orders").resolve()
    assert all(r["_source_file"] in (f"file:{folder}/{Path(r['_source_file']).name}",
                                     f"file://{folder}/{Path(r['_source_file']).name}")
               and r["_ingested_at"] is not None
               and r["_rescued_data"] is None for r in rows)


def update_quality(project: Project) -> dict[tuple, tuple]:
    events = read_events(Location.local(project.root / "pipeline-storage"))
    last = updates(events)[-1]
    assert last.state == "COMPLETED"
    return {(q.dataset, q.expectation): (q.passed, q.failed)
            for q in quality(events, last.update_id)}


@pytest.mark.parametrize("variant", ["python", "sql"])
def test_the_example_lands_the_expected_rows_over_two_runs(tmp_path, sail_url, variant) -> None:
    root = create_project(tmp_path, "shop")
    landing = root / "data" / "landing"
    project = Project(root if variant == "python" else root / "sql", sail_url)
    generator = _generator(root)
    seen: set[int] = set()
    for run in (1, 2, 3):
        if run > 1:
            new_files = generator.generate(landing, more=True)
            assert [p.name for p in new_files] == [f"orders-0000{run}.json",
                                                   f"customers-0000{run - 1}.json"]
        new_events = [e for name, e in landed(landing / "orders")
                      if run == 1 or name == f"orders-0000{run}.json"]
        result = project.run()
        assert result.state == UpdateState.COMPLETED, result
        check_bronze(project, landing)
        for table, rows in expected_tables(landing).items():
            assert actual(project, table, ORDER[table]) == rows, (run, table)
        if variant == "python":  # expectations on the deduplicated rows, new order ids only
            batch, fresh = [], set()
            for e in new_events:
                if e["order_id"] not in seen and e["order_id"] not in fresh:
                    fresh.add(e["order_id"])
                    batch.append(typed(e))
            seen |= fresh
            assert update_quality(project) == expectation_counts(batch, "silver_orders")
        else:  # expectations on every new event, before AUTO CDC keeps each order id once
            assert update_quality(project) == expectation_counts(
                [typed(e) for e in new_events], "silver_order_events")
        if run == 3:  # the aggregation below its join (SQL: a subquery of it): merged
            assert techniques(result)["gold_customer_orders"] == "GROUP_AGGREGATE"
    again = project.run()  # nothing new: no rows move
    assert again.state == UpdateState.COMPLETED
    for table, rows in expected_tables(landing).items():
        assert actual(project, table, ORDER[table]) == rows, ("no-op", table)


def techniques(result: Any) -> dict[str, str]:
    return {r.planned.flow.name: r.metrics.details.get("technique") for r in result.flows
            if r.metrics is not None and "technique" in r.metrics.details}


def _generator(root: Path) -> Any:
    from lakesmith.templates import load_generator

    return load_generator(root / "generate.py")


def test_the_example_is_the_init_template(tmp_path) -> None:
    """examples/medallion is the template itself, and init copies it file for file (only the
    project name in the specs differs, and init adds the landing data)."""
    example = REPO / "examples" / "medallion"
    assert example.is_symlink() and example.resolve() == TEMPLATE.resolve()
    root = create_project(tmp_path, "shop")
    sources = sorted(p.relative_to(TEMPLATE) for p in TEMPLATE.rglob("*")
                     if p.is_file() and not {"data", "pipeline-storage", "warehouse",
                                             "__pycache__"} & set(p.relative_to(TEMPLATE).parts))
    copied = sorted(p.relative_to(root) for p in root.rglob("*")
                    if p.is_file() and p.relative_to(root).parts[0] != "data")
    assert copied == sources
    for relative in sources:
        if relative.name == "spark-pipeline.yml":
            assert (root / relative).read_text().replace("name: shop", "name: medallion") == \
                (TEMPLATE / relative).read_text()
        else:
            assert filecmp.cmp(root / relative, TEMPLATE / relative, shallow=False), relative
    assert sorted(p.name for p in (root / "data" / "landing").rglob("*.json")) == [
        "customers-00000.json", "orders-00000.json", "orders-00001.json"]
