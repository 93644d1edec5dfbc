"""Locations as the engine must be given them so that they round-trip exactly.

Sail 0.7.2 turns a local path into a URL and then uses the encoded URL path as a file path: a
table under `with space/` gets its log in `with%20space/` and its data in `with%2520space/`,
silently, whatever the spelling (raw path, file:// URI); raw paths are also glob-expanded (`?`,
`*`, `[`, `{`). Paths made only of characters that neither step changes are passed as they are;
any other local folder is reached through a symlink with a safe name that points at it (the
engine follows it, so files land in the intended folder and delta-rs reads them there).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from lakesmith.locations import Location, LocationError

# Characters verified to round-trip as a raw absolute path, for the engine and for delta-rs.
ENGINE_SAFE = re.compile(r"[A-Za-z0-9/._\-+,;:&$!()'=@]*")


def engine_path(location: Location) -> str:
    """What to pass to the engine (save, load, LOCATION, parquet/json reads) for `location`."""
    if not location.is_local:
        return location.uri
    if ENGINE_SAFE.fullmatch(location.path):
        return location.path
    path = location.local_path
    is_file = path.is_file()
    folder = path.parent if is_file else path
    if is_file and not ENGINE_SAFE.fullmatch(path.name):
        raise LocationError(
            f"The engine cannot read the file {path}: its name has characters outside "
            "[A-Za-z0-9/._-+,;:&$!()'=@].", hint="rename the file.")
    folder.mkdir(parents=True, exist_ok=True)
    alias = _alias(folder.resolve())
    return f"{alias}/{path.name}" if is_file else str(alias)


def _alias(target: Path) -> Path:
    root = Path(tempfile.gettempdir()) / f"lakesmith-{os.getuid()}" / "paths"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not ENGINE_SAFE.fullmatch(str(root)):
        raise LocationError(
            f"The temporary folder {root} has characters the engine cannot address.",
            hint="set TMPDIR to a folder with a plain name.")
    link = root / hashlib.sha256(os.fsencode(target)).hexdigest()[:32]
    try:
        link.symlink_to(target, target_is_directory=True)
    except FileExistsError:
        if os.readlink(link) != str(target):  # a stale link from another run: replace it
            temporary = link.with_name(link.name + f".{os.getpid()}")
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(target, target_is_directory=True)
            os.replace(temporary, link)
    return link
