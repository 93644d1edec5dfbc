"""pyspark's call-site capture imports IPython on every DataFrame function call; without IPython
installed, lakesmith records it as absent once (`engine/call_sites.py`), so the capture no longer
searches `sys.path`, and the plans keep the same origins."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from typing import Any

import pytest

from lakesmith.engine.call_sites import remember_absent_notebook_modules


class _CountingFinder(importlib.abc.MetaPathFinder):
    """Counts the searches for a module (a failed import searches again every time)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.searches = 0

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == self.name:
            self.searches += 1
        return None


@pytest.fixture
def without_ipython(monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.modules.get("IPython") is not None or (
            "IPython" not in sys.modules and importlib.util.find_spec("IPython") is not None):
        pytest.skip("IPython is installed here: its import succeeds once and is cached")
    monkeypatch.delitem(sys.modules, "IPython", raising=False)


def test_columns_no_longer_search_for_ipython_and_keep_their_origin(
        without_ipython: None, spark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyspark.sql import functions as F

    finder = _CountingFinder("IPython")
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    F.col("a")
    assert finder.searches == 1  # pyspark's own behaviour: one search per column made

    remember_absent_notebook_modules()  # (one search: is it installed?)
    finder.searches = 0
    df = spark.range(1).select(F.col("id").alias("x"), F.lit(1).alias("y"))
    assert finder.searches == 0
    with pytest.raises(ModuleNotFoundError):
        import IPython  # noqa: F401
    assert importlib.util.find_spec("IPython") is None
    # The plan still says where each column was made.
    plan = str(df._plan.to_proto(spark.client))
    assert f'call_site: "{__file__}:' in plan and 'fragment: "col"' in plan
    assert df.collect()[0].asDict() == {"x": 0, "y": 1}


def test_an_installed_module_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import lakesmith.engine.call_sites as call_sites

    monkeypatch.setattr(call_sites, "CAPTURE_IMPORTS", ("json",))
    monkeypatch.delitem(sys.modules, "json")
    remember_absent_notebook_modules()
    assert "json" not in sys.modules  # installed: nothing recorded, imported when asked
    import json

    assert json.dumps([1]) == "[1]"
