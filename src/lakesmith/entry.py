"""The `lakesmith` command's entry point: Ctrl-C and SIGTERM are watched before anything else is
imported (the command line, pyspark and the engine take a moment to load), so a signal at any
moment of the command's life is handled the same way. `lakesmith --version` answers before the
command line is even loaded (scripts call it to check the install)."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["version"]):
        from lakesmith import __version__

        print(f"lakesmith {__version__}")
        sys.exit(0)
    from lakesmith.startup_gc import pause_collection

    pause_collection()  # until the command's imports are done (startup_gc.py)
    from lakesmith.stopping import SignalWatcher, command_stop_request

    watcher = SignalWatcher(command_stop_request())
    watcher.install()
    from lakesmith.cli import main as cli_main

    cli_main(watcher)
