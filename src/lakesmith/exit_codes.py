"""The `lakesmith` command's exit statuses, for scripts and CI:

- 0: done (an update completed; a check passed),
- 1: a flow failed, or a check failed (a quality gate, an update that did not complete),
- 2: usage or validation error: wrong options, an invalid spec, a source that does not load,
  an invalid pipeline graph (nothing ran),
- 130: interrupted (Ctrl-C or SIGTERM during a triggered update).
"""

from __future__ import annotations

from lakesmith.errors import (
    GraphValidationError,
    NotSupportedYet,
    SourceLoadError,
    SourceLoadErrors,
    SpecError,
    SqlRefError,
    UsageError,
)
from lakesmith.locations import LocationError
from lakesmith.stopping import EXIT_INTERRUPTED

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "exit_code_for"]

_USAGE_ERRORS = (UsageError, SpecError, SourceLoadError, SourceLoadErrors, GraphValidationError,
                 SqlRefError, LocationError)
# NotSupportedYet is a validation error before anything runs (dry-run), a failed flow after.
_VALIDATION_ONLY = (NotSupportedYet,)


def exit_code_for(error: BaseException) -> int:
    return EXIT_USAGE if isinstance(error, _USAGE_ERRORS + _VALIDATION_ONLY) else EXIT_FAILED
