"""What every command of the command line shares: its registry record, exit codes, the usage error
and the command line a run records in its files."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXIT_BAD_INPUT = 2  # argparse's own status for bad input
EXIT_DIVERGED = 3
PROG = "python -m gan_core"


class UsageError(ValueError):
    """Bad input found after parsing; reported like an argparse error (one line, exit status 2)."""


@dataclass(frozen=True)
class Command:
    """One sub-command: its name, how it adds its arguments, what it runs (returns an exit status), its help."""

    name: str
    add_args: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    help: str


def recorded_command(fallback: str) -> str:
    """The command line as typed (`python -m gan_core ...` or `gan ...`), for a run's files; `fallback`
    when this process was started some other way (a test calling main(), say)."""
    launcher = Path(sys.argv[0]).name
    if launcher == "gan":
        return " ".join(["gan", *sys.argv[1:]])
    if sys.argv[0].endswith(("gan_core", "__main__.py")):
        return " ".join([PROG, *sys.argv[1:]])
    return fallback
