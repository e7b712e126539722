"""End to end through the GUI: add a Mastodon account in the Accounts dialog, sync it, read the customer's thread.

Nothing of Tend's is stood in for: the real MainWindow, AccountService, SyncEngine and MastodonConnector, wired as
``run_gui`` wires them (``sync_account_changes``), run on the qasync loop against mastodon-mock, the independently
written Mastodon-API server, started on 127.0.0.1. Customers act on it only through its public REST API.

The browser step is simulated the way a browser and its owner would do it: load the authorization page Tend opens,
pick the shop's account on mastodon-mock's sign-in page (its stand-in for "log in and press Authorize"), submit it,
and follow the server's redirect to Tend's loopback listener. The expected counts and follower numbers are read back
from the server itself after the sync, never written into the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QLabel, QMenu

from console.ui.formatting import count_of
from console.connectors.mastodon import MastodonConnector
from console.domain import influence_breakdown
from console.secrets import load_secret
from console.services.accounts import AccountService
from console.services.actions import InboxActions
from console.services.connectors import TOKEN_KIND
from console.services.writer import StoreWriter
from console.store import Inbox, ViewKind
from console.sync import SyncEngine
from console.ui import accounts_dialog
from console.ui.accounts_dialog import AccountsDialog
from console.ui.application import open_reader, sync_account_changes
from console.ui.main_window import MainWindow
from console.ui.thread_list_model import COL_INFLUENCE as LIST_COL_INFLUENCE
from console.ui.thread_list_model import COL_RESHARES as LIST_COL_RESHARES
from console.ui.thread_list_model import ThreadIdRole
from console.ui.thread_view import COL_INFLUENCE, COL_LIKES, COL_POST, COL_REPLIES, COL_RESHARES, PostIdRole
from tests.connectors.oauth_server import fresh_keyring  # noqa: F401
from tests.integration.mastodon_world import MastodonMock, MockServerProcess, Person, Status, running_mastodon_mock

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fresh_keyring")]


# -- the server and its people ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mastodon_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServerProcess]:
    with running_mastodon_mock(tmp_path_factory.mktemp("mastodon-mock-gui")) as server:
        yield server


@pytest.fixture
def mastodon(mastodon_process: MockServerProcess) -> Iterator[MastodonMock]:
    if mastodon_process.process.poll() is not None:
        pytest.fail(f"mastodon-mock died:\n{mastodon_process.log_tail()}")
    server = MastodonMock(mastodon_process.base_url)
    try:
        yield server
    finally:
        server.close()


@dataclass
class Shopfront:
    """The shop, four customers, and one conversation the shop is asked about."""

    server: MastodonMock
    shop: Person
    ann: Person
    ben: Person
    cat: Person
    dan: Person
    question: Status = field(default_factory=dict)  # Ann mentions the shop: the thread's root
    aside: Status = field(default_factory=dict)  # Ben answers Ann, not mentioning the shop
    answer: Status = field(default_factory=dict)  # the shop answers Ann
    follow_up: Status = field(default_factory=dict)  # Ann again: the shop's turn
    other: Status = field(default_factory=dict)  # Dan's question: a second conversation waiting for the shop
    unrelated: Status = field(default_factory=dict)  # never in the inbox

    @property
    def thread(self) -> list[Status]:
        return [self.question, self.aside, self.answer, self.follow_up]


def open_shopfront(server: MastodonMock) -> Shopfront:
    shop = server.person("gui_shop", "Corner Bakery")
    ann, ben, cat, dan = (server.person(n) for n in ("gui_ann", "gui_ben", "gui_cat", "gui_dan"))
    world = Shopfront(server, shop, ann, ben, cat, dan)
    # Ann has an audience of her own (four followers, one follow): her influence must show it.
    for follower in (ben, cat, dan, shop):
        follower.follow(ann)
    ann.follow(shop)
    cat.follow(ben)

    world.question = ann.mentioning(shop, "do you ship sourdough to Lyon? asking for my whole office")
    world.aside = ben.reply(world.question, "they shipped to Grenoble for me last month", to=ann)
    world.answer = shop.reply(world.question, "we do! orders before Thursday ship Friday", to=ann)
    world.follow_up = ann.reply(world.answer, "wonderful, ordering 12 loaves now", to=shop)
    world.other = dan.mentioning(shop, "are you open on Sunday mornings?")
    world.unrelated = ann.post("Sunny day at the lake")

    for fan in (ben, cat, dan):
        fan.boost(world.question)
    cat.boost(world.aside)
    for fan in (cat, dan):
        fan.favourite(world.question)
    for fan in (ann, dan):
        fan.favourite(world.aside)
    ben.favourite(world.answer)
    shop.favourite(world.follow_up)
    return world


# -- the simulated browser -------------------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """The sign-in page's form: where it posts, its hidden fields, and the accounts one can pick."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.choices: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name") == "username":
            self.choices.append(a.get("value", ""))


class SigningInBrowser:
    """What the system browser and the owner do with the URL Tend opens: load the server's authorization page, pick
    the shop's account there and submit, then follow the redirect to Tend's loopback listener. Runs on its own
    thread, as a browser is its own process (Tend's listener is on the qasync loop of this one)."""

    def __init__(self, username: str) -> None:
        self.username = username
        self.opened: list[str] = []
        self.choices: list[str] = []
        self.visited: list[httpx.URL] = []
        self.final: httpx.Response | None = None
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
        self._threads.append(thread)
        thread.start()
        return True

    def _visit(self, url: str) -> None:
        try:
            with httpx.Client(follow_redirects=True, timeout=10) as client:
                page = client.get(url)
                page.raise_for_status()
                form = _FormReader()
                form.feed(page.text)
                self.choices = form.choices
                if self.username not in form.choices:
                    raise AssertionError(f"{self.username} is not offered on the sign-in page: {form.choices}")
                self.final = client.post(urljoin(str(page.url), form.action),
                                         data={**form.hidden, "username": self.username})
                self.visited = [r.url for r in self.final.history] + [self.final.url]
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.errors.append(error)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10)


# -- the app, wired as run_gui wires it ------------------------------------------------------------------------------


@dataclass
class App:
    window: MainWindow
    service: AccountService
    engine: SyncEngine
    reader: Inbox


@pytest.fixture
def app(qtbot, loop, tmp_path: Path) -> Iterator[App]:
    path = tmp_path / "inbox.db"
    writer = StoreWriter(Inbox.open(path))
    reader = open_reader(path)
    service = AccountService(writer, auth_timeout=20)
    engine = SyncEngine(writer, [], interval=3600)  # the first sync of an added account starts at once
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(reader, InboxActions(writer), settings=settings, accounts=service)
    window.set_accounts(reader.accounts())
    engine.on_changes.append(window.apply_changes)
    engine.on_status.append(window.show_status)
    sync_account_changes(service, engine, window.show_message)
    qtbot.addWidget(window)
    window.show()
    engine.start()
    yield App(window, service, engine, reader)
    window.close()
    stopping = asyncio.ensure_future(engine.stop())
    qtbot.waitUntil(stopping.done, timeout=5000)
    writer.close()
    reader.close()


def open_accounts_from_the_file_menu(window: MainWindow, qtbot) -> AccountsDialog:
    (file_menu,) = [a.menu() for a in window.menuBar().actions() if a.text() == "&File"]
    assert isinstance(file_menu, QMenu)
    (item,) = [a for a in file_menu.actions() if a.text() == "&Accounts…"]
    assert item is window.accounts_action and item.isEnabled()
    item.trigger()
    dialog = window.findChild(QDialog, "accountsDialog")
    assert isinstance(dialog, AccountsDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.status_label.text() != "", timeout=5000)
    return dialog


# -- the test --------------------------------------------------------------------------------------------------------


def test_connect_in_browser_then_the_customers_thread_shows_with_the_servers_numbers(
    app: App, qtbot, mastodon: MastodonMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = open_shopfront(mastodon)
    browser = SigningInBrowser(world.shop.username)
    monkeypatch.setattr(accounts_dialog, "open_in_browser", browser)
    instance = mastodon.http.get("/api/v2/instance").json()
    account_id = f"mastodon:{world.shop.username}@{instance['domain']}"
    handle = f"@{world.shop.username}@{instance['domain']}"
    window = app.window

    # File › Accounts…, Add Mastodon account…, the server's address, Connect in browser.
    dialog = open_accounts_from_the_file_menu(window, qtbot)
    assert "No accounts yet" in dialog.status_label.text()
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_ADD
    qtbot.keyClicks(dialog.server_field, mastodon.base_url)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.account_ids() == [account_id], timeout=15_000)
    browser.join()
    assert browser.errors == []
    (opened,) = browser.opened
    query = dict(parse_qsl(urlsplit(opened).query))
    assert opened.startswith(f"{mastodon.base_url}/oauth/authorize?")
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    assert urlsplit(query["redirect_uri"]).hostname == "127.0.0.1"
    assert browser.final is not None and browser.final.status_code == 200
    assert browser.visited[-1].path == "/callback" and browser.visited[-1].host == "127.0.0.1"
    assert "You can close this tab and return to Tend" in browser.final.text
    assert dialog.status_label.text().startswith(f"Connected {handle}")
    assert dialog.pages.currentIndex() == accounts_dialog.PAGE_LIST and not dialog.busy
    item = dialog.account_list.topLevelItem(0)
    assert [item.text(c) for c in range(3)] == [handle, urlsplit(mastodon.base_url).netloc, "connected"]
    # The token the server issued through the browser sign-in is in the keyring, and it is the shop's.
    token = load_secret(account_id, TOKEN_KIND)
    assert token and token != world.shop.token
    me = mastodon.http.get("/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["id"] == world.shop.id

    # The running engine syncs the new account with the real connector; the customer's thread appears.
    (connector,) = app.engine._connectors
    assert isinstance(connector, MastodonConnector) and app.engine.account_ids == [account_id]
    root_id = mastodon.post_id(world.question)
    qtbot.waitUntil(lambda: window.model.row_of(root_id) is not None, timeout=15_000)
    status_label = window.findChild(QLabel, f"status-{account_id}")
    assert status_label is not None
    qtbot.waitUntil(lambda: status_label.text() == f"Mastodon {handle}: up to date", timeout=15_000)
    assert window.current_view().kind is ViewKind.NEEDS_REPLY
    other_id = mastodon.post_id(world.other)
    qtbot.waitUntil(lambda: window.model.row_of(other_id) is not None, timeout=5000)
    assert window.model.rowCount() == 2  # two conversations wait for the shop; the unrelated post is not one

    # The owner clicks Dan's conversation, then Ann's.
    dialog.close()
    for wanted in (other_id, root_id):
        row = window.model.row_of(wanted)
        index = window.model.index(row, 0)
        qtbot.mouseClick(window.thread_list.viewport(), Qt.MouseButton.LeftButton,
                         pos=window.thread_list.visualRect(index).center())
        qtbot.waitUntil(lambda w=wanted: window.thread_view.thread_id == w, timeout=5000)
        assert window.thread_list.currentIndex().data(ThreadIdRole) == wanted

    # What the server says now, read through its own API as the shop sees it.
    truth = {mastodon.post_id(s): mastodon.status(s["id"], world.shop) for s in world.thread}
    people = {p.id: mastodon.account(p.id) for p in (world.ann, world.ben, world.shop)}
    shown = {item.data(COL_POST, PostIdRole): item for item in window.thread_view.post_items()}
    assert set(shown) == set(truth), "the thread view shows exactly the server's conversation"
    assert mastodon.post_id(world.unrelated) not in shown

    # Engagement is what the inbox saw the author's posts about the shop receive: reshares, quotes and likes.
    def engagement(person: Person) -> int:
        return sum(s["reblogs_count"] + s.get("quotes_count", 0) + s["favourites_count"]
                   for s in truth.values() if s["account"]["id"] == person.id)

    # Amplification: the audiences of everyone who boosted the person's posts (themselves excluded), each once.
    def amplification(person: Person) -> int:
        boosters = {}
        for status in truth.values():
            if status["account"]["id"] == person.id:
                for who in mastodon.http.get(f"/api/v1/statuses/{status['id']}/reblogged_by").json():
                    if who["id"] != person.id:
                        boosters[who["id"]] = who["followers_count"]
        return sum(boosters.values())

    def influence(person: Person) -> int:
        who = people[person.id]
        return influence_breakdown(who["followers_count"], who["following_count"], who["statuses_count"],
                                   engagement(person), amplification(person)).score

    for post_id, status in truth.items():
        item = shown[post_id]
        where = f"{post_id} ({status['account']['username']})"
        assert world_text(world, status) in item.text(COL_POST), where
        assert item.text(COL_RESHARES) == str(status["reblogs_count"] + status.get("quotes_count", 0)), where
        assert item.text(COL_LIKES) == str(status["favourites_count"]), where
        assert item.text(COL_REPLIES) == str(status["replies_count"]), where
    # The counts are real and not all alike (three boosts of the question, one of Ben's aside, ...).
    question = shown[root_id]
    assert (question.text(COL_RESHARES), question.text(COL_LIKES), question.text(COL_REPLIES)) == ("3", "2", "2")
    assert shown[mastodon.post_id(world.aside)].text(COL_LIKES) == "2"

    ann, ben = people[world.ann.id], people[world.ben.id]
    assert ann["followers_count"] == 4 and ben["followers_count"] == 1
    for person, status in ((world.ann, world.question), (world.ann, world.follow_up), (world.ben, world.aside)):
        item = shown[mastodon.post_id(status)]
        assert item.text(COL_INFLUENCE) == str(influence(person)), person.username
        assert count_of(people[person.id]['followers_count'], 'follower') in item.toolTip(COL_INFLUENCE)
    # The followers are what lifts Ann: with no audience her score would be lower.
    who = people[world.ann.id]
    assert influence(world.ann) > influence_breakdown(0, who["following_count"], who["statuses_count"],
                                                      engagement(world.ann), amplification(world.ann)).score
    assert "You (" in shown[mastodon.post_id(world.answer)].text(COL_POST)  # the shop's own reply

    # The list row says the same about the thread's author and its reshares.
    assert index.data() == (ann["display_name"] or world.ann.username)
    # (the refresh pass's boosters arrive last: the list catches up within a coalesced refresh)
    qtbot.waitUntil(lambda: window.model.index(row, LIST_COL_INFLUENCE).data() == str(influence(world.ann)),
                    timeout=3000)
    assert "4 followers" in window.model.index(row, LIST_COL_INFLUENCE).data(Qt.ItemDataRole.ToolTipRole)
    assert window.model.index(row, LIST_COL_RESHARES).data() == str(
        sum(s["reblogs_count"] + s.get("quotes_count", 0) for s in truth.values()))
    assert f"{len(truth)} posts" in window.thread_view.title.text()

    # The status bar: the account is up to date, and nothing went wrong on the way.
    assert status_label.text() == f"Mastodon {handle}: up to date"
    assert window.message_label.text() == ""


def world_text(world: Shopfront, status: Status) -> str:
    """What the author typed, as the server keeps it (the inbox shows plain text, not HTML)."""
    return str(world.server.http.get(f"/api/v1/statuses/{status['id']}/source").json()["text"]).strip()
