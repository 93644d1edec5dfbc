"""A persisted view's flow: inside the update it is inlined where it is read, like a temporary
view; publishing it in the catalog happens once the update's analysis succeeded
(`runtime/published_views.py`), so that every view published is one whose query resolves."""

from __future__ import annotations

from lakesmith.runtime.flows import register_runner
from lakesmith.runtime.flows.temporary_view import TemporaryViewRunner
from lakesmith.runtime.plan import VIEW, FlowWork, PlannedFlow
from lakesmith.runtime.workspace import Workspace


@register_runner("persisted_view")
class PersistedViewRunner(TemporaryViewRunner):
    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        return FlowWork(VIEW, "published as a view of the catalog; inlined where it is read")
