"""Create or replace one of xml130's Prefect Secret blocks without the value touching the command line or the
shell history:

    python -m pipelines.set_secret xml130-source-url        # asks for the value (not echoed)
    printf %s "$VALUE" | python -m pipelines.set_secret xml130-p12-password   # or from standard input

The names are those the flows read (``pipelines._common.SECRET_BLOCKS``); a database URL is checked to parse.
The value is never printed.
"""

from __future__ import annotations

import getpass
import sys

from ._common import SECRET_BLOCKS


def read_value(name: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"{name}: ")
    return sys.stdin.read().strip()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in SECRET_BLOCKS:
        print(f"usage: python -m pipelines.set_secret NAME  (NAME: {', '.join(SECRET_BLOCKS)})", file=sys.stderr)
        return 2
    name = argv[0]
    value = read_value(name)
    if not value:
        print(f"{name}: empty value, nothing saved", file=sys.stderr)
        return 2
    if name.endswith("-url"):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError:
            print(f"{name}: not a database URL (dialect+driver://user:password@host/db)", file=sys.stderr)
            return 2
    from prefect.blocks.system import Secret

    Secret(value=value).save(name, overwrite=True)
    print(f"Secret block {name} saved ({SECRET_BLOCKS[name]} in the worker's environment would take precedence)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
