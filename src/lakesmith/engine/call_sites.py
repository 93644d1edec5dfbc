"""pyspark's call-site capture, kept cheap.

Each DataFrame function of the Spark Connect client (`F.col`, `F.when`, `df.select`, ...) records
where it was called from (`python_origin` in the plan: Spark's query context in error messages).
To do that it tries `import IPython` on every call. Without IPython installed, every one of those
imports fails and searches each `sys.path` entry again (Python does not remember a failed
import): 0.06–0.1 ms a call, and an update builds hundreds of columns (787 in the medallion
example's +5 % update: 0.06–0.09 s of Python, half of it on the critical path).

The failure is recorded once instead, in Python's own way of saying a module is absent
(`sys.modules[name] = None`: `import` raises ModuleNotFoundError, `importlib.util.find_spec`
answers None, as before). The plans and their origins stay exactly what pyspark makes.
"""

from __future__ import annotations

import importlib.util
import sys

# What pyspark.errors.utils._capture_call_site imports on each call (ipykernel only after it).
CAPTURE_IMPORTS = ("IPython",)


def remember_absent_notebook_modules() -> None:
    """Record the modules the call-site capture imports as absent when they are not installed."""
    for name in CAPTURE_IMPORTS:
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            sys.modules[name] = None  # type: ignore[assignment]
