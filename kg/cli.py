"""The ``diplograph`` command: a thin shell over the library API.

Each sub-command lives in its own module under :mod:`kg.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a function taking the
parsed arguments and returning an exit code. Errors meant for the user are raised as
:class:`kg.errors.UserError` and printed without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from kg import __version__
from kg.commands import COMMAND_MODULES
from kg.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diplograph",
        description="Build and query a knowledge graph of diplomatic meetings from news articles.",
    )
    parser.add_argument("--version", action="version", version=f"diplograph {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"diplograph {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("diplograph: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
