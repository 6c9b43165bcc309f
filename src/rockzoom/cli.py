"""`rockzoom <verb>`: every workflow stage is also a command.

Each module in ``rockzoom.commands`` defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``;
they are discovered here, so adding a verb never touches this file.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from rockzoom import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rockzoom", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"rockzoom.commands.{info.name}")
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one verb; its log lines go to stderr. A user error is one line on stderr and exit status 2 (argparse's
    usage-error status); anything else keeps its traceback."""
    from rockzoom.util.logs import console_logging

    args = build_parser().parse_args(argv)
    console_logging()
    try:
        return int(args._run(args) or 0)
    except (FileNotFoundError, ValueError) as e:
        if not is_user_error(e):
            raise
        print(f"rockzoom {args.verb}: {e}", file=sys.stderr)
        return 2


def is_user_error(exc: BaseException) -> bool:
    """A bad config (``ConfigError``), a missing input file, or a ``ValueError`` that rockzoom itself raised on
    checking its inputs (a bad checkpoint, image or setting); a ``ValueError`` from deeper down (numpy, torch) is
    more likely a bug and keeps its traceback."""
    from rockzoom.config import ConfigError

    if isinstance(exc, (ConfigError, FileNotFoundError)):
        return True
    if not isinstance(exc, ValueError):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("rockzoom.")


if __name__ == "__main__":
    sys.exit(main())
