"""What an update reports while it runs, in the vocabulary of the Databricks pipeline event log.

The update runner tells an `UpdateListener` about each state change; the console progress display
and the event log are listeners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol


class UpdateState(str, Enum):
    INITIALIZING = "INITIALIZING"
    SETTING_UP_TABLES = "SETTING_UP_TABLES"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class FlowStatus(str, Enum):
    QUEUED = "QUEUED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    STOPPED = "STOPPED"
    EXCLUDED = "EXCLUDED"

    @property
    def is_final(self) -> bool:
        return self in (FlowStatus.COMPLETED, FlowStatus.FAILED, FlowStatus.SKIPPED,
                        FlowStatus.STOPPED, FlowStatus.EXCLUDED)


# In FlowMetrics.details: a later cycle of a continuous update in which the flow had nothing to
# do. Listeners leave such cycles out (they would grow the event log forever while idle).
IDLE = "idle"


@dataclass
class FlowMetrics:
    """What a flow did in one update."""

    num_output_rows: int | None = None
    duration_seconds: float = 0.0
    batches: int = 0
    source_versions: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class UpdateListener(Protocol):
    def update_progress(self, state: UpdateState, error: BaseException | None = None) -> None: ...

    def flow_progress(self, flow: Any, status: FlowStatus, metrics: FlowMetrics | None = None,
                      error: BaseException | None = None) -> None: ...


class Listeners:
    """Fans each report out to several listeners."""

    def __init__(self, *listeners: UpdateListener) -> None:
        self.listeners = [listener for listener in listeners if listener is not None]

    def update_progress(self, state: UpdateState, error: BaseException | None = None) -> None:
        for listener in self.listeners:
            listener.update_progress(state, error)

    def flow_progress(self, flow: Any, status: FlowStatus, metrics: FlowMetrics | None = None,
                      error: BaseException | None = None) -> None:
        for listener in self.listeners:
            listener.flow_progress(flow, status, metrics, error)

    def cycle_finished(self, cycle: int, *, idle: bool) -> None:
        """A continuous update's cycle ended (`idle`: no flow had anything to do). Optional for
        listeners: only those with a `cycle_finished` method hear of it."""
        for listener in self.listeners:
            hook = getattr(listener, "cycle_finished", None)
            if hook is not None:
                hook(cycle, idle=idle)
