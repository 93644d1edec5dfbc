"""lakesmith's pytest plugin, active wherever lakesmith is installed (the `pytest11` entry point):

- `lakesmith_engine` (session): one embedded Sail engine shared by the session's tests;
- `lakesmith_pipeline`: a `TestPipeline` in the test's temporary folder, run on that engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakesmith.testing import TestEngine, TestPipeline


@pytest.fixture(scope="session")
def lakesmith_engine() -> Iterator[TestEngine]:
    engine = TestEngine()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def lakesmith_pipeline(tmp_path: Path, lakesmith_engine: TestEngine) -> TestPipeline:
    root = tmp_path / "pipeline"
    root.mkdir()
    return TestPipeline(root, lakesmith_engine.url)
