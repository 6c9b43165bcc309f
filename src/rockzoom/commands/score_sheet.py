"""`rockzoom score-sheet SHEET_DIR ANSWERS`: the fool rate of a person's answers to a blind side-by-side sheet."""
from __future__ import annotations

import argparse

NAME = "score-sheet"
HELP = ("score a person's answers to a blind side-by-side sheet (real_or_generated.png): the fool rate with its "
        "binomial 95 percent interval")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sheet_dir", help="folder holding real_or_generated.png and real_or_generated_key.csv")
    parser.add_argument("answers", help="text file: for each pair the side you think is real, e.g. '3 L' per line, "
                                        "or one line of L/R letters (start from answers_template.txt)")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from rockzoom.generation.blind_test import format_score, score

    result = score(args.sheet_dir, args.answers)
    sys.stdout.write(format_score(result) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0
