"""``tend account add|list|remove``: the owner's accounts from a terminal.

Exit codes: 0 done, 1 failed (one line on stderr says why), 2 the inbox could not be opened (see ``console.app``).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import webbrowser
from collections.abc import Awaitable, Callable
from typing import TextIO

from console.connectors.errors import ConnectorError
from console.connectors.mastodon_auth import server_host
from console.services.accounts import AccountError, AccountService, network_name
from console.services.writer import StoreWriter
from console.services.x_usage import XUsageStore
from console.store import Inbox, InboxError

EXIT_OK = 0
EXIT_FAILED = 1


class AccountCommands:
    """One ``tend account …`` invocation, with its terminal (injectable for tests)."""

    def __init__(
        self,
        service: AccountService,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self._service = service
        self._in = stdin or sys.stdin
        self._out = stdout or sys.stdout
        self._err = stderr or sys.stderr

    def run(self, args: argparse.Namespace) -> int:
        commands: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
            "add": self.add,
            "list": self.list_accounts,
            "remove": self.remove,
        }
        try:
            return asyncio.run(commands[args.account_command](args))
        except (AccountError, ConnectorError, InboxError) as error:
            self._fail(str(error))
        except KeyboardInterrupt:
            self._fail("cancelled; nothing was changed.")
        return EXIT_FAILED

    # -- add -------------------------------------------------------------------------------------------------------

    async def add(self, args: argparse.Namespace) -> int:
        if args.network == "bluesky":
            return await self.add_bluesky(args)
        if args.network == "feed":
            return await self.add_feed(args)
        if args.network == "x":
            return await self.add_x(args)
        if not args.server:
            raise AccountError("Say which Mastodon server: `tend account add mastodon --server mastodon.social`.")
        if args.token_stdin:
            account = await self._service.add_mastodon_with_token(args.server, self._read_token())
        else:
            account = await self._service.add_mastodon_oauth(
                args.server, self._open_browser, on_status=lambda text: self._say(text, self._err)
            )
        self._say(
            f"Connected {account.handle} ({network_name(account.network)}). "
            "Run `tend sync --once` or open Tend to fetch messages."
        )
        return EXIT_OK

    async def add_bluesky(self, args: argparse.Namespace) -> int:
        if not args.handle:
            raise AccountError("Say which Bluesky account: `tend account add bluesky --handle yourshop.bsky.social "
                               "--app-password-stdin`.")
        if not args.app_password_stdin and not self._in.isatty():
            raise AccountError("Give the app password on standard input with --app-password-stdin.")
        password = self._read_secret("App password (not shown): ")
        account = await self._service.add_bluesky(args.handle, password, service=args.service, plc_url=args.plc)
        self._say(
            f"Connected {account.handle} (Bluesky). Run `tend sync --once` or open Tend to fetch messages."
        )
        if self._service.last_warning:
            self._say(f"Tend: warning: {self._service.last_warning}", self._err)
        return EXIT_OK

    async def add_x(self, args: argparse.Namespace) -> int:
        if not args.client_id:
            raise AccountError("Give the client id of your X app: `tend account add x --client-id ID` (X developer "
                               "portal → your app → Keys and tokens → OAuth 2.0 Client ID).")
        account = await self._service.add_x(
            args.client_id,
            lambda url: self._open_browser(
                url, what="let Tend read your mentions and direct messages and post your replies"),
            on_status=lambda text: self._say(text, self._err),
            monthly_read_cap=args.monthly_read_cap,
        )
        capped = self._service.x_cap(account.id) is not None
        reads = f" {self._service.x_reads_text(account.id)}." if capped else ""
        self._say(f"Connected {account.handle} (X).{reads} Run `tend sync --once` or open Tend to fetch messages.")
        if self._service.last_warning:
            self._say(f"Tend: warning: {self._service.last_warning}", self._err)
        elif not capped:
            self._say("Tend: note: no monthly read cap is set. Add --monthly-read-cap N (the monthly post cap of "
                      "your X plan) so Tend shows what is left and stops before X cuts you off.", self._err)
        return EXIT_OK

    async def add_feed(self, args: argparse.Namespace) -> int:
        if not args.url:
            raise AccountError("Say which feed: `tend account add feed --url https://example.com/feed.xml` "
                               "(the address of a site that names its feed works too).")
        account = await self._service.add_feed(args.url)
        self._say(
            f"Watching {account.handle} ({account.server_url}) as {account.id}. New items arrive as read-only "
            "conversations (answer them on the site). Run `tend sync --once` or open Tend to fetch them."
        )
        return EXIT_OK

    def _read_secret(self, prompt: str) -> str:
        if self._in.isatty():
            return getpass.getpass(prompt)
        return self._in.readline().strip()

    def _read_token(self) -> str:
        if self._in.isatty():
            return getpass.getpass("Access token (not shown): ")
        return self._in.read()

    def _open_browser(self, url: str, what: str = "") -> None:
        host = server_host(url)
        self._say(
            f"Sign in on {host} to {what or 'let Tend read your notifications and post your replies'}.\n"
            f"Your browser should open now; if it does not, open this address yourself:\n\n  {url}\n"
        )
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            pass  # the address is on screen

    # -- list ------------------------------------------------------------------------------------------------------

    async def list_accounts(self, _args: argparse.Namespace) -> int:
        accounts = await self._service.list_accounts()
        if not accounts:
            self._say("No accounts yet. Connect one with `tend account add mastodon --server URL`, "
                      "`tend account add bluesky --handle HANDLE --app-password-stdin` or "
                      "`tend account add x --client-id ID`, or watch a feed with `tend account add feed --url URL`.")
            return EXIT_OK
        rows = [
            (a.id, network_name(a.network), a.handle, a.server_url, await self._service.state_of(a)) for a in accounts
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            self._say("  ".join([*(row[i].ljust(widths[i]) for i in range(4)), row[4]]))
        return EXIT_OK

    # -- remove ----------------------------------------------------------------------------------------------------

    async def remove(self, args: argparse.Namespace) -> int:
        account = await self._service.find(args.account_id)
        keep = args.keep_history
        if keep is None:
            keep = self._ask_keep_history()
        removal = await self._service.remove_account(account.id, keep_history=keep)
        where = "its conversations stay in your inbox" if keep else "its conversations were deleted from your inbox"
        self._say(f"Removed {account.handle} ({network_name(account.network)}); {where}.")
        if removal.warning:
            self._say(f"Tend: warning: {removal.warning}", self._err)
        return EXIT_OK

    def _ask_keep_history(self) -> bool:
        """Ask at a terminal; anywhere else keep the history, the choice that loses nothing."""
        if not self._in.isatty():
            return True
        self._out.write("Keep this account's conversations in your inbox? [Y/n] ")
        self._out.flush()
        answer = self._in.readline()
        return answer.strip().lower() not in ("n", "no")

    # -- output ----------------------------------------------------------------------------------------------------

    def _say(self, text: str, stream: TextIO | None = None) -> None:
        print(text, file=stream or self._out, flush=True)

    def _fail(self, reason: str) -> None:
        print(f"Tend: {' '.join(reason.split())}", file=self._err, flush=True)


def run_account_command(inbox: Inbox, args: argparse.Namespace) -> int:
    writer = StoreWriter(inbox)
    try:
        service = AccountService(writer, x_usage=XUsageStore.in_folder(inbox.path.parent))
        return AccountCommands(service).run(args)
    finally:
        writer.close()
