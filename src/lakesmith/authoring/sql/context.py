"""What one SQL file's statements share while it is parsed: its path and the `SET` state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class FileContext:
    path: str
    # `${key}` values: the pipeline configuration, overridden by SET statements seen so far.
    variables: dict[str, str] = field(default_factory=dict)
    # SET statements seen so far; like Spark's pipeline SQL loader, they are the Spark conf of
    # every flow defined after them in the same file.
    spark_conf: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_file(cls, path: str, configuration: Mapping[str, str]) -> FileContext:
        return cls(path, variables=dict(configuration))

    def set(self, key: str, value: str) -> None:
        self.variables[key] = value
        self.spark_conf[key] = value

    def flow_conf(self) -> dict[str, str]:
        """A snapshot of the Spark conf for a flow defined now."""
        return dict(self.spark_conf)
