"""Making `import delta.tables` find lakesmith's DeltaTable, without ever shadowing delta-spark.

The finder is appended to the END of `sys.meta_path`, so Python asks it only after every normal
finder failed to find a `delta` package: with delta-spark installed (a JVM cluster, or Delta
Connect), its own `delta` wins; without it, `delta` and `delta.tables` are lakesmith's. It is
installed by `lakesmith.session()` and before a pipeline's sources are loaded.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any

ALIASES = {"delta": "lakesmith.deltaspark", "delta.tables": "lakesmith.deltaspark.tables"}


class _DeltaAliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        # A module of its own that re-exports the target's names: the target keeps its own
        # name and spec, and `delta.__path__` is empty so no file finder answers for
        # `delta.tables` before this finder does.
        module = ModuleType(spec.name)
        target = importlib.import_module(self.target)
        for name in getattr(target, "__all__", ()):  # names the target imports on first use
            getattr(target, name)
        module.__dict__.update({k: v for k, v in vars(target).items() if not k.startswith("__")})
        module.__doc__ = target.__doc__
        if spec.submodule_search_locations is not None:
            module.__path__ = []
        return module

    def exec_module(self, module: ModuleType) -> None:
        pass  # everything was copied from the target


class DeltaAliasFinder(importlib.abc.MetaPathFinder):
    """Answers for `delta` and `delta.tables` when nothing else could."""

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        alias = ALIASES.get(fullname)
        if alias is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _DeltaAliasLoader(alias),
                                              is_package=fullname == "delta")


def install_delta_module() -> None:
    """Install the finder once (last on `sys.meta_path`)."""
    if not any(isinstance(f, DeltaAliasFinder) for f in sys.meta_path):
        sys.meta_path.append(DeltaAliasFinder())


def delta_spark_installed() -> bool:
    """Whether a real delta-spark `delta` package is importable (lakesmith's is not used then)."""
    spec = importlib.util.find_spec("delta")
    return spec is not None and not isinstance(spec.loader, _DeltaAliasLoader)
