"""Command line: python -m gan_core (or `gan`) {train, sample, eval, train-classifier, export, project} ...

This module only builds the parser and dispatches. Each command lives in its own module and lists
itself in that module's COMMANDS; the parser is built from the modules imported here.
Bad input, a bad environment setting included, gives a one-line error and exit status 2 (argparse
style); a diverged run exits 3. Warnings from gan_core's loggers go to stderr.
"""
from __future__ import annotations

import argparse
import logging

from gan_core.cli import evaluate, export, project, sample, train
from gan_core.cli.common import EXIT_BAD_INPUT, PROG, Command, UsageError
from gan_core.settings import settings

COMMAND_MODULES = (train, sample, evaluate, export, project)


def commands() -> dict[str, Command]:
    """Every command by name, in the order `--help` lists them."""
    return {command.name: command for module in COMMAND_MODULES for command in module.COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Train, sample and evaluate small GANs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands().values():
        command.add_args(sub.add_parser(command.name, help=command.help, description=command.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the `gan` console script and `python -m gan_core` both call this."""
    from gan_core.data.datasets import DataNotFoundError
    from gan_core.io.checkpoint import CheckpointError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings()  # every environment setting, read and checked once before the command runs (SettingsError)
        return commands()[args.command].run(args)
    except (UsageError, ValueError, CheckpointError, DataNotFoundError, FileNotFoundError) as exc:
        parser.exit(EXIT_BAD_INPUT, f"{PROG} {args.command}: error: {exc}\n")
    return 0
