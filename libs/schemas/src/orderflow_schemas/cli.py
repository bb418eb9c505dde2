"""``orderflow-schemas export DIR`` writes the generated docs; ``check DIR`` exits 1 if stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .asyncapi import rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="orderflow-schemas")
    parser.add_argument("command", choices=["export", "check"])
    parser.add_argument("docs", type=Path, nargs="?", default=Path("docs"))
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered(args.docs).items():
        if args.command == "export":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        elif not path.exists() or path.read_text() != text:
            stale.append(str(path))
    if stale:
        print("out of date (run `make docs`):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
