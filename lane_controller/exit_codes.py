"""The exit statuses of every ``lane-controller`` command, one meaning each (README, ``--help``)."""

from __future__ import annotations

from typing import Final

OK: Final = 0
"""Done: every record accepted, the chain verified, the command did what it was asked."""
FINDINGS: Final = 1
"""The command ran and found problems in the data: records rejected, the audit chain broken."""
USAGE: Final = 2
"""The command line or the input is unusable (a missing or unreadable file, a document that is not
JSON, a bad option); nothing was changed. argparse uses it for its own usage errors too."""
ENVIRONMENT: Final = 3
"""What the command needs around it is missing: the database cannot be reached, its URL is wrong, it
does not exist yet or is not migrated."""
NOTHING_TO_DO: Final = 4
"""The input held nothing to act on (an empty CN file)."""
BROKEN_PIPE: Final = 141
"""The reader of standard output went away (``… | head``): stopped quietly, as Unix tools do (128 +
SIGPIPE)."""
