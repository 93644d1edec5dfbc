"""`lakesmith.testing` and its pytest plugin, used as a user would: a project made by `lakesmith
init`, its test suite (the README's example, verbatim) run by pytest with the plugin."""

from __future__ import annotations

import re
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from lakesmith.templates import create_project

README = Path(__file__).resolve().parents[1] / "README.md"
pytest_plugins = ["pytester"]


def readme_example() -> str:
    """Every Python example of the README's testing section, as one test module."""
    section = README.read_text().split("## Testing pipelines", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(examples) >= 2, "the README's testing section lost an example"
    return "\n\n".join(examples)


def plugin_args() -> list[str]:
    """`-p` for the plugin unless it is installed with its entry point (then it loads itself)."""
    installed = any(e.value == "lakesmith.testing.plugin" for e in entry_points(group="pytest11"))
    return [] if installed else ["-p", "lakesmith.testing.plugin"]


def test_the_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    import tomllib

    project = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"lakesmith": "lakesmith.testing.plugin"}


def test_a_users_project_test_suite_runs_with_the_plugin(pytester: pytest.Pytester,
                                                         tmp_path: Path) -> None:
    shutil.copytree(create_project(tmp_path, "shop"), pytester.path, dirs_exist_ok=True)
    shutil.rmtree(pytester.path / "data")  # the tests give their own inputs
    pytester.makepyfile(test_shop=readme_example())
    pytester.makepyfile(test_more='''
        import pytest

        from lakesmith.errors import GraphValidationError

        ENGINES = []


        @pytest.mark.parametrize("round", [1, 2])
        def test_one_engine_per_session(lakesmith_engine, round):
            ENGINES.append(lakesmith_engine)
            assert all(e is ENGINES[0] for e in ENGINES)


        def test_configuration_overrides_and_inline_sources(lakesmith_pipeline):
            p = lakesmith_pipeline.source("transformations/t.py", """
                from pyspark import pipelines as dp

                @dp.materialized_view
                def limited():
                    n = int(spark.conf.get("test.rows", "1"))
                    return spark.range(n).selectExpr("id", "id * 2 AS twice")
            """)
            assert [r["id"] for r in p.run().rows("limited", order_by="id")] == [0]
            result = p.run(configuration={"test.rows": "3"})
            assert result.rows("limited", order_by="id")[-1] == {"id": 2, "twice": 4}
            assert result.arrow("limited").num_rows == 3
            assert [e["event_type"] for e in result.events("update_progress")][-1] == \\
                "update_progress"


        def test_inputs_given_as_tables_by_name(lakesmith_pipeline):
            p = lakesmith_pipeline.source("transformations/t.py", """
                from pyspark import pipelines as dp

                @dp.materialized_view
                def dutch():
                    return spark.read.table("ext.customers").where("country = 'NL'")
            """)
            p.table("ext.customers", [{"id": 1, "country": "NL"}, {"id": 2, "country": "BE"}])
            assert p.run().rows("dutch") == [{"id": 1, "country": "NL"}]
            p.table("ext.customers", [{"id": 3, "country": "NL"}], mode="overwrite")
            assert p.run().rows("dutch") == [{"id": 3, "country": "NL"}]
            assert p.table_location("ext.customers").parts[-3:] == ("spark_catalog", "ext",
                                                                     "customers")


        def test_a_failed_update_fails_the_test_with_the_flow_error(lakesmith_pipeline):
            p = lakesmith_pipeline.source("transformations/t.py", """
                from pyspark import pipelines as dp

                @dp.materialized_view
                def bad():
                    return spark.range(2).selectExpr("CAST(assert_true(id < 1, 'id too big') AS STRING) AS x")
            """)
            with pytest.raises(AssertionError, match="ended FAILED") as info:
                p.run()
            assert "bad" in str(info.value) and "id too big" in str(info.value)
            result = p.run(expect_success=False)
            assert result.state == "FAILED" and result.flow("bad").error is not None


        def test_dry_run_reports_every_problem(lakesmith_pipeline):
            p = lakesmith_pipeline.source("transformations/t.py", """
                from pyspark import pipelines as dp

                @dp.materialized_view
                def a():
                    return spark.read.table("nope_a")

                @dp.materialized_view
                def b():
                    return spark.range(1).select("nope_b")
            """)
            with pytest.raises(GraphValidationError) as info:
                p.dry_run()
            assert len(info.value.problems) == 2
    ''')
    # In a subprocess: an in-process run drops the modules it imported first (sqlglot's dialects,
    # lakesmith's own) when it ends, and their re-imports would not be the classes others hold.
    result = pytester.runpytest_subprocess(*plugin_args(), "-q", "-p", "no:cacheprovider",
                                          "--durations=0", "--durations-min=0")
    result.assert_outcomes(passed=8)
