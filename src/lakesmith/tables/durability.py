"""Making a Delta commit the engine wrote durable before lakesmith records it as done.

The engine writes data files and the commit JSON without fsync; the checkpoint's commit record is
fsynced. Without this, an OS crash could keep the record of batch N and lose the commit it names.
On object stores an acknowledged put is already durable, so there is nothing to do.
"""

from __future__ import annotations

import os
from pathlib import Path

from lakesmith.files import fsync_dir
from lakesmith.locations import Location
from lakesmith.tables.delta_log import commit_location, read_commit


def make_durable(table_root: Location, version: int) -> None:
    if not table_root.is_local:
        return
    commit = read_commit(table_root, version)
    folders: set[Path] = set()
    for data_file in commit.adds:
        path = data_file.location(table_root).local_path
        _fsync_file(path)
        folders.add(path.parent)
    log_file = commit_location(table_root, version).local_path
    _fsync_file(log_file)
    folders.add(log_file.parent)
    for folder in sorted(folders):
        fsync_dir(folder)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
