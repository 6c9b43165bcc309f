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
    from rockzoom.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except ConfigError as e:  # a bad config: one line naming the key, no traceback (argparse's usage-error status)
        print(f"rockzoom {args.verb}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
