"""Command-line parsing: ``tend [--db PATH] [--demo] [COMMAND]``.

``--db`` is global and written before any subcommand, so every later command (``tend --db PATH sync --once``,
``tend --db PATH account list``) shares it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from console import __version__
from console.store.queries import ViewKind

EXIT_OK = 0
EXIT_FAILED = 1


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
    _add_account_commands(subcommands)
    _add_export_command(subcommands)
    return parser


def _add_account_commands(subcommands: argparse._SubParsersAction) -> None:
    account = subcommands.add_parser("account", help="connect, list or remove your accounts")
    actions = account.add_subparsers(dest="account_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="connect an account (adding it again reconnects it)",
        description="Connect an account. Mastodon: without --token-stdin your browser opens to sign in on your "
        "server. Bluesky: give your handle and an app password on standard input (create one in Settings → "
        "Privacy and security → App passwords on bsky.app). X: give the OAuth 2.0 Client ID of your own X app "
        "(X developer portal → your app → Keys and tokens) with --client-id; the app must allow the callback "
        "http://127.0.0.1:47219/callback, and your browser opens to approve Tend. Feed: give the address of an RSS "
        "or Atom feed (or of a page that names one) with --url; its items arrive as read-only conversations.",
    )
    add.add_argument("network", choices=["mastodon", "bluesky", "x", "feed"], help="the account's network")
    add.add_argument("--url", metavar="URL", help="Feed: the RSS or Atom feed to watch (https)")
    add.add_argument("--server", metavar="URL", help="Mastodon: your server, for example mastodon.social")
    add.add_argument(
        "--token-stdin",
        action="store_true",
        help="Mastodon: read an access token you created on your server (Preferences › Development) from "
        "standard input",
    )
    add.add_argument("--handle", metavar="HANDLE", help="Bluesky: your handle (yourshop.bsky.social) or DID")
    add.add_argument(
        "--service", metavar="URL",
        help="Bluesky: where to look the handle up (default https://bsky.social); your own server is found from "
        "your account's identity",
    )
    add.add_argument(
        "--plc", metavar="URL",
        help="Bluesky: the PLC directory for did:plc identities (default https://plc.directory; "
        "a local development network uses http://localhost:2582)",
    )
    add.add_argument(
        "--app-password-stdin", action="store_true",
        help="Bluesky: read the app password from standard input (asked for, hidden, at a terminal)",
    )
    add.add_argument("--client-id", metavar="ID", help="X: the OAuth 2.0 Client ID of your X developer app")
    add.add_argument(
        "--monthly-read-cap", type=_read_cap, metavar="N",
        help="X: the posts your X plan lets you read per month; Tend shows what is left and stops reading before "
        "X cuts you off (0: not known; left out: keep what was set)",
    )

    actions.add_parser("list", help="show your accounts and whether they are connected")

    remove = actions.add_parser(
        "remove",
        help="disconnect an account: withdraws and forgets its access token",
        description="Disconnect an account. Without a history option Tend asks (or keeps the history when it "
        "cannot ask).",
    )
    remove.add_argument("account_id", metavar="ID", help="the account's id, as `tend account list` shows it")
    history = remove.add_mutually_exclusive_group()
    history.add_argument(
        "--keep-history", dest="keep_history", action="store_true", default=None,
        help="keep the account's conversations in the inbox (read only)",
    )
    history.add_argument(
        "--delete-history", dest="keep_history", action="store_false",
        help="delete the account's conversations from the inbox",
    )


def _read_cap(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of posts: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a monthly read cap cannot be negative")
    return value


def _add_export_command(subcommands: argparse._SubParsersAction) -> None:
    export = subcommands.add_parser(
        "export",
        help="export conversations to a CSV or JSON file",
        description="Export conversations, one row per post, to a spreadsheet (.csv) or for scripts (.json). "
        "Reads the inbox only; safe to run while Tend is open.",
    )
    # SUPPRESS: when --db is not repeated here, the global one (before the command) must survive.
    export.add_argument("--db", type=Path, metavar="PATH", default=argparse.SUPPRESS, help="the inbox file to read")
    export.add_argument(
        "--view",
        choices=[kind.value for kind in ViewKind if kind is not ViewKind.ACCOUNT],
        help="which conversations (default: all)",
    )
    export.add_argument("--account", metavar="ID", help="only this account's conversations")
    export.add_argument("--search", metavar="TEXT", default="", help="only conversations matching this search")
    export.add_argument("--thread", metavar="ID", help="export just this conversation")
    export.add_argument(
        "out", type=Path, metavar="OUT.csv|OUT.json", help="the file to write; its suffix picks the format"
    )


def run_export_command(
    args: argparse.Namespace, inbox_path: Path, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """``tend export``: exit 0 with one line saying what was written, or 1 with one line on stderr saying why not.

    ``console.app`` opens (and migrates) the inbox before dispatching here; the export reads through a connection of
    its own, read-only, so it can never change the inbox.
    """
    from console.store import InboxError, View
    from console.store.database import check_inbox_file, connect
    from console.store.export import export_thread, export_view

    out, err = stdout or sys.stdout, stderr or sys.stderr
    if args.thread is not None and (args.view is not None or args.search or args.account is not None):
        print("tend export: --thread exports one conversation; leave out --view, --account and --search.", file=err)
        return EXIT_FAILED
    try:
        if check_inbox_file(inbox_path) == 0:
            print(f"tend export: there is no inbox at {inbox_path}.", file=err)
            return EXIT_FAILED
        db = connect(inbox_path)
        try:
            db.execute("PRAGMA query_only = 1")
            if args.thread is not None:
                result = export_thread(db, args.thread, args.out)
            else:
                view = View(ViewKind(args.view or ViewKind.ALL), account_id=args.account, search=args.search)
                result = export_view(db, view, args.out)
        finally:
            db.close()
    except InboxError as error:  # ExportError included
        print(f"tend export: {error}", file=err)
        return EXIT_FAILED
    noun = "post" if result.posts == 1 else "posts"
    conversations = "conversation" if result.threads == 1 else "conversations"
    print(f"Exported {result.posts:,} {noun} from {result.threads:,} {conversations} to {result.path}", file=out)
    return EXIT_OK


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
