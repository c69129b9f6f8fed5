"""`python -m tests.golden [--update]`: compare (or regenerate) the golden layouts."""

from __future__ import annotations

import argparse
import sys

from . import CASES, HERE, differences, generate, stored_parts, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.golden", description=__doc__)
    parser.add_argument("--update", action="store_true",
                        help="rewrite tests/golden/ from the current code (then review the diff)")
    parser.add_argument("cases", nargs="*", metavar="CASE",
                        help=f"only these cases (default: all: {', '.join(c.name for c in CASES)})")
    args = parser.parse_args(argv)
    unknown = set(args.cases) - {c.name for c in CASES}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    status = 0
    for case in CASES:
        if args.cases and case.name not in args.cases:
            continue
        parts = generate(case)
        if args.update:
            write(case, parts)
            print(f"{HERE.name}/{case.name}: {len(parts)} parts written")
            continue
        found = differences(stored_parts(case), parts)
        print(f"{case.name}: {'ok' if not found else f'{len(found)} differences'}")
        for text in found:
            print(text)
        status = status or (1 if found else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
