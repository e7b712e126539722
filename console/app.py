"""Entry point: parse the command line, open the inbox, then run the window or a headless command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")  # before qasync is imported anywhere, so it binds to PySide6

from console.cli import parse_args
from console.connectors.demo import DEMO_WATCH_EXCLUDE, DEMO_WATCH_TERMS, DemoNetwork
from console.logs import setup_logging
from console.paths import default_inbox_path, demo_inbox_path
from console.services.connectors import connectors_for
from console.services.radar import RadarService
from console.services.writer import StoreWriter
from console.store import Inbox, InboxError
from console.store.spread import Escalation
from console.store.watches import brand_watch, save_brand_watch
from console.sync import NETWORK_NAMES, SyncEngine, account_label

log = logging.getLogger(__name__)

DEMO_SYNC_INTERVAL_S = 3.0
SYNC_INTERVAL_S = 60.0
EXIT_BAD_INBOX = 2


def inbox_path(args: argparse.Namespace) -> Path:
    if args.db is not None:
        return args.db.expanduser()
    return demo_inbox_path() if args.demo else default_inbox_path()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    path = inbox_path(args)
    if args.command == "export":  # read-only: never creates or migrates an inbox
        from console.cli import run_export_command

        return run_export_command(args, path)
    try:
        inbox = Inbox.open(path)
        if args.demo:
            for account in DemoNetwork(seed=args.seed).accounts():
                inbox.ensure_account(account)
            if not brand_watch(inbox).active:  # the demo bakery's words, until the owner sets their own
                save_brand_watch(inbox, DEMO_WATCH_TERMS, DEMO_WATCH_EXCLUDE)
    except InboxError as error:
        _report_fatal(str(error), gui=args.command is None)
        return EXIT_BAD_INBOX
    if args.command == "sync":
        return run_sync_once(inbox, args)
    if args.command == "account":
        from console.account_commands import run_account_command

        return run_account_command(inbox, args)
    from console.ui.application import run_gui

    return run_gui(inbox, path, demo=args.demo, seed=args.seed, interval=_interval(args))


def _interval(args: argparse.Namespace) -> float:
    return DEMO_SYNC_INTERVAL_S if args.demo else SYNC_INTERVAL_S


def run_sync_once(inbox: Inbox, args: argparse.Namespace) -> int:
    """``tend sync --once``: one pass over every account, a line per account, non-zero if any failed."""
    accounts = inbox.accounts()
    connectors, unserved = connectors_for(accounts, demo_seed=args.seed, state_dir=inbox.path.parent)
    writer = StoreWriter(inbox)
    engine = SyncEngine(writer, connectors)
    radar = RadarService(writer)
    escalations: list[Escalation] = []
    radar.on_escalation.append(escalations.append)
    failed = False
    try:
        results = asyncio.run(_sync_and_close(engine, radar))
    finally:
        writer.close()
    if not accounts:
        print("No accounts yet: connect one in the app (File > Accounts...), with `tend account add mastodon "
              "--server URL`, `tend account add bluesky --handle HANDLE --app-password-stdin` or "
              "`tend account add x --client-id ID`, or try the demo with `tend --demo`.")
    labels = {c.account.id: account_label(c) for c in connectors}
    for result in results:
        if result.error:
            failed = True
            print(f"{labels[result.account_id]}: failed: {result.error}")
        else:
            print(f"{labels[result.account_id]}: {result.new_posts} new posts in {result.pages} pages")
    for item in unserved:
        failed = True
        name = NETWORK_NAMES.get(item.account.network, item.account.network)
        print(f"{name} {item.account.handle}: not synced: {item.reason}")
    for escalation in escalations:
        print(f"Escalating (heat {escalation.heat}): {escalation.summary()}")
    return 1 if failed else 0


async def _sync_and_close(engine: SyncEngine, radar: RadarService) -> list:
    """One pass, then one radar pass so heat, reach and the Escalating view are current without the window."""
    try:
        results = await engine.sync_once()
        await radar.run_once()
        return results
    finally:
        await engine.stop()


def _report_fatal(message: str, *, gui: bool) -> None:
    print(f"Tend: {message}", file=sys.stderr)
    if gui and os.environ.get("QT_QPA_PLATFORM") != "offscreen" and (sys.stdin is None or not sys.stdin.isatty()):
        # Started from a desktop launcher: there is no terminal to read the message in.
        from PySide6.QtWidgets import QApplication, QMessageBox

        app = QApplication.instance() or QApplication([sys.argv[0]])
        QMessageBox.critical(None, "Tend cannot open the inbox", message)
        del app


if __name__ == "__main__":
    sys.exit(main())
