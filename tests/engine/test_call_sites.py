"""pyspark's call-site capture tries `import IPython` on every DataFrame and Column call: where
IPython is missing, the import fails at once instead of searching `sys.path` each time."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from lakesmith.engine import call_sites


def _without_ipython_module(monkeypatch) -> None:
    """No `IPython` in sys.modules during the test; as it was afterwards."""
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.delitem(sys.modules, "IPython")


def test_a_missing_ipython_fails_its_import_at_once(monkeypatch) -> None:
    _without_ipython_module(monkeypatch)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    call_sites.skip_missing_ipython()
    assert "IPython" in sys.modules and sys.modules["IPython"] is None
    searched: list[str] = []
    monkeypatch.setattr(sys, "meta_path", [_Recorder(searched), *sys.meta_path])
    with pytest.raises(ImportError):
        import IPython  # noqa: F401
    assert searched == []  # no finder was asked


def test_an_installed_ipython_is_left_alone(monkeypatch) -> None:
    _without_ipython_module(monkeypatch)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    call_sites.skip_missing_ipython()
    assert "IPython" not in sys.modules


class _Recorder:
    """A meta path finder that records what it is asked for and finds nothing."""

    def __init__(self, searched: list[str]) -> None:
        self.searched = searched

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        self.searched.append(name)
        return None
