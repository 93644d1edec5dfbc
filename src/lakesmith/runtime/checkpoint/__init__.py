"""The exactly-once protocol of streaming flows, in one place: records (`records`), the two logs
(`log`), a flow's checkpoint (`checkpoint`), the ways a batch writes (`writers`), `run_batch()` and
`recover()` (`protocol`), the checks that a checkpoint and its table agree (`consistency`) and the
named crash points (`crash`)."""

from lakesmith.runtime.checkpoint.checkpoint import Checkpoint, CheckpointMetadata
from lakesmith.runtime.checkpoint.consistency import open_checkpoint, verify_checkpoint
from lakesmith.runtime.checkpoint.protocol import (
    BatchPlan,
    Recovery,
    recover,
    run_batch,
    writer_versions,
)
from lakesmith.runtime.checkpoint.records import (
    CheckpointError,
    CommitRecord,
    Marker,
    OffsetRecord,
    SourceRange,
)
from lakesmith.runtime.checkpoint.writers import (
    AppendWithMarker,
    BatchWriter,
    IdempotentMerge,
    Landed,
    Overwrite,
    ReplaceRows,
    StateAppend,
)

__all__ = [
    "AppendWithMarker", "BatchPlan", "BatchWriter", "Checkpoint", "CheckpointError",
    "CheckpointMetadata", "CommitRecord", "IdempotentMerge", "Landed", "Marker", "OffsetRecord",
    "Overwrite", "Recovery", "ReplaceRows", "SourceRange", "StateAppend", "open_checkpoint", "recover",
    "run_batch", "verify_checkpoint", "writer_versions",
]
