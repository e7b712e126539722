"""After a session in real Tend processes, no token or password is anywhere but the keyring.

The session, with a temporary HOME and the plain-text file keyring: connect a Mastodon account by access token (the
local sign-in server) and a Bluesky account by app password (the local Bluesky server), sync verbosely (Mastodon's
sync fails: the sign-in server has no timelines, so errors are logged), and sync again in a process where storing a
page crashes, so a traceback lands in the log with the sessions live. Then the window itself (``secrets_gui_session``):
its own sync brings in a new customer post, the owner answers it through the composer and the outbox, the Bluesky
connector posts the reply with its session token, and closing the window writes the QSettings file. Then every file
under HOME and next to the inbox (the inbox, its -wal and -shm, backups, logs, the window's settings, crash reports)
is searched for every secret, raw, base64 (at each alignment) and URL-encoded. The keyring file itself must hold
them, which proves the search works.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.connectors.bluesky_server import BlueskyTestServer, bluesky  # noqa: F401 - a fixture
from tests.connectors.oauth_server import FakeMastodonAuth, auth_server, fresh_keyring  # noqa: F401 - fixtures
from tests.faults.conftest import REPO

pytestmark = pytest.mark.slow

APP_PASSWORD = "wxyz-stuv-qrst-nopq"
REPLY = "So sorry for the wait, Anna. We are looking into your parcel right now and will write back today."
# Where Qt keeps QSettings("Tend", "Tend") on Linux (run_gui names the organisation and the application).
SETTINGS_FILE = Path(".config", "Tend", "Tend.conf")

CRASHING_SYNC = """
import sys
from console.store.inbox import Inbox
def broken(self, batch, **kwargs):
    raise RuntimeError("the disk controller caught fire")
Inbox.apply_batch = broken
from console.app import main
sys.exit(main(sys.argv[1:]))
"""


def run(args: list[str], input: str | None = None) -> subprocess.CompletedProcess[str]:  # noqa: A002
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=90,
                          input=input, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def encodings(secret: str) -> set[bytes]:
    """The ways a secret could end up in a file: as is, URL-encoded, or base64 starting at any byte alignment."""
    raw = secret.encode()
    forms = {raw, quote(secret, safe="").encode(), quote_plus(secret).encode()}
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            # The first and last four characters depend on the neighbouring bytes; the middle does not.
            forms.add(encode(b"\0" * shift + raw + b"\0\0\0")[4:-8])
    return {form for form in forms if len(form) >= 8}


def files_under(*roots: Path) -> list[Path]:
    return sorted({p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()})


def holders(secret: str, files: list[Path]) -> list[str]:
    forms = encodings(secret)
    found = []
    for path in files:
        data = path.read_bytes()
        unwrapped = re.sub(rb"\s+", b"", data)  # base64 is often wrapped (and indented) at 76 characters
        if any(form in data or form in unwrapped for form in forms):
            found.append(str(path))
    return found


def test_no_token_or_password_outside_the_keyring_after_a_session(
    tmp_path: Path, private_home: Path, auth_server: FakeMastodonAuth, bluesky: BlueskyTestServer,  # noqa: F811
    fresh_keyring, monkeypatch  # noqa: F811
) -> None:
    world = bluesky.world
    issued: list[str] = []
    new_session = world.new_session

    def recording_session(*args, **kwargs):
        session = new_session(*args, **kwargs)
        issued.extend((session["accessJwt"], session["refreshJwt"]))
        return session

    monkeypatch.setattr(world, "new_session", recording_session)
    biz = bluesky.business("shop.test", password=APP_PASSWORD)
    anna = world.person("anna.test", followers=321)
    world.mention(anna, biz, "my order never arrived, here is my card ending 4242")
    inbox_dir = tmp_path / "inbox"
    db = str(inbox_dir / "inbox.db")
    token = auth_server.issue_token()
    # (The sign-in server offers streaming at its own address, not the recording's ws://localhost:4000.)
    assert auth_server.instance["configuration"]["urls"]["streaming"].startswith("ws://127.0.0.1:")

    added = run(["-m", "console", "--db", db, "account", "add", "mastodon", "--server", auth_server.url,
                 "--token-stdin"], input=f"{token}\n")
    assert added.returncode == 0, added.stderr
    added = run(["-m", "console", "--db", db, "account", "add", "bluesky", "--handle", "shop.test", "--service",
                 bluesky.url, "--app-password-stdin"], input=f"{APP_PASSWORD}\n")
    assert added.returncode == 0, added.stderr

    synced = run(["-m", "console", "-v", "--db", db, "sync", "--once"])
    assert "Bluesky @shop.test: 1 new posts" in synced.stdout, synced.stdout + synced.stderr
    assert "Mastodon" in synced.stdout and "failed" in synced.stdout  # an error path ran and was logged
    world.mention(anna, biz, "still waiting")
    crashed = run(["-c", CRASHING_SYNC, "-v", "--db", db, "sync", "--once"])
    assert "unexpected problem" in crashed.stdout, crashed.stdout + crashed.stderr

    # The window: its sync fetches a post made since, the owner answers it, and closes the window.
    waiting = world.mention(anna, biz, "hello? is anyone there")
    gui = run(["-m", "tests.faults.secrets_gui_session", db, f"bluesky:{waiting.uri}", REPLY])
    assert gui.returncode == 0, gui.stdout + gui.stderr
    assert "SYNCED" in gui.stdout.splitlines()
    (sent_line,) = [line for line in gui.stdout.splitlines() if line.startswith("SENT ")]
    # The reply reached the server: one record, answering that post, sent with a session token the server issued.
    (posted,) = bluesky.requests_to("com.atproto.repo.createRecord")
    record = posted.json()["record"]
    assert record["text"] == REPLY and record["reply"]["parent"]["uri"] == waiting.uri
    assert posted.bearer in issued and posted.bearer in world.access
    (reply,) = [p for p in world.posts.values() if p.author is biz and p.record.get("text") == REPLY]
    assert sent_line == f"SENT bluesky:{reply.uri}"
    settings_file = private_home / SETTINGS_FILE
    assert settings_file.is_file(), f"closing the window wrote no settings: {files_under(private_home)}"
    assert "geometry" in settings_file.read_text(errors="replace")  # the window's own, saved on close

    logs = files_under(private_home)
    log_text = "\n".join(p.read_text(errors="replace") for p in logs if p.name.startswith("tend.log"))
    assert "Traceback" in log_text and "the disk controller caught fire" in log_text  # the crash was logged
    assert "Tend closed cleanly" in log_text  # the window's session ended normally
    secrets = {"Mastodon access token": token, "Bluesky app password": APP_PASSWORD}
    secrets |= {f"Bluesky session token #{n}": value for n, value in enumerate(issued)}
    assert len(issued) >= 6  # a session from signing in, and refreshed ones from the two syncs and the window

    keyring_files = [p for p in files_under(private_home) if "keyring" in p.name or "python_keyring" in str(p)]
    assert keyring_files, "the file keyring wrote nothing: the test would prove nothing"
    searched = [p for p in files_under(private_home, tmp_path) if p not in keyring_files]
    assert any(p.name == "inbox.db" for p in searched) and any(p.name.startswith("tend.log") for p in searched)
    assert settings_file in searched
    outputs = [added.stdout + added.stderr, synced.stdout + synced.stderr, crashed.stdout + crashed.stderr,
               gui.stdout + gui.stderr]
    for name, secret in secrets.items():
        assert holders(secret, searched) == [], f"the {name} leaked"
        assert not any(form.decode(errors="replace") in out for form in encodings(secret) for out in outputs), name
    # The saved credentials (the token, and the latest Bluesky refresh token) are in the keyring, found by the
    # same search: so a leak into any other file would have been found too.
    assert holders(token, keyring_files)
    assert any(holders(value, keyring_files) for value in issued)
