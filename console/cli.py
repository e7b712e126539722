"""Command-line parsing: ``tend [--db PATH] [--demo] [COMMAND]``.

``--db`` is global and written before any subcommand, so every later command (``tend --db PATH sync --once``)
shares it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from console import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tend",
        description="Tend: one calm inbox for your customers on Mastodon, Bluesky and X.",
    )
    parser.add_argument("--version", action="version", version=f"Tend {__version__}")
    parser.add_argument("--db", type=Path, metavar="PATH", help="open this inbox file instead of the default one")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run the embedded demo network (into a separate demo inbox unless --db is given)",
    )
    parser.add_argument("--seed", type=int, default=7, help=argparse.SUPPRESS)
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sync = subcommands.add_parser("sync", help="sync accounts without opening the window")
    sync.add_argument("--once", action="store_true", required=True, help="sync every account once and exit")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
