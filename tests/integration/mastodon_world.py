"""A real, independently written Mastodon-API server (the PyPI package mastodon-mock) and people who use it.

The server runs as a child process on a free loopback port, exactly as an owner's test instance would. Customers act
on it only through its public REST API (post, reply, boost, favourite, message, edit, delete), and the tests read the
truth back from the same API, so the inbox Tend builds is compared with what the server itself reports.

The mock's control plane (``/api/v1/_mock/*``) is used for the two things a real server cannot do on demand: create
accounts with tokens (``dev_user``) and inject faults (``faults``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

Status = dict[str, Any]

STARTUP_TIMEOUT_S = 30.0
# Every status gets its own millisecond: the inbox stores times to the millisecond and orders a thread by them.
GAP_BETWEEN_WRITES_S = 0.003
# One numbering for the whole test session: every test shares the server, and usernames are unique there.
_NAMES = itertools.count(1)


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, end with the test run even if pytest itself is killed."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MockServerProcess:
    """``python -m mastodon_mock serve`` on 127.0.0.1; stop() always ends it."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, limit: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_mastodon_mock(workdir: Path, attempts: int = 3) -> MockServerProcess:
    """Start the server and wait until it answers; a port taken between choosing and binding is retried."""
    workdir.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for attempt in range(1, attempts + 1):
        port = free_loopback_port()
        log_path = workdir / f"mastodon-mock-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "mastodon_mock", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--in-memory", "--log-level", "warning"],
                # Its own empty folder: mastodon-mock reads .mastodon_mock.toml or [tool.mastodon_mock] from the
                # working directory, and nothing there may change the server under test.
                cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            )
        server = MockServerProcess(process, port, log_path)
        try:
            if _wait_until_answering(server):
                return server
        except BaseException:
            server.stop()
            raise
        server.stop()
        failures.append(f"attempt {attempt} on port {port}: {server.log_tail(1500)}")
    raise RuntimeError("mastodon-mock did not start:\n" + "\n".join(failures))


@contextlib.contextmanager
def running_mastodon_mock(workdir: Path) -> Iterator[MockServerProcess]:
    """mastodon-mock for the length of a ``with`` block; skips the test when the package is not installed."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("mastodon_mock") is None:
        pytest.skip("the mastodon-mock test server is not installed; `pip install -e '.[test]'` installs it")
    server = start_mastodon_mock(workdir)
    try:
        yield server
    finally:
        server.stop()


def _wait_until_answering(server: MockServerProcess) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/health", timeout=1.0).text == "OK":
                return True
        time.sleep(0.05)
    return False


class MastodonMock:
    """The server as the tests see it: the control plane, and reads of what the server holds."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.netloc = urlsplit(base_url).netloc
        self.http = httpx.Client(base_url=base_url, timeout=10.0)

    def close(self) -> None:
        self.http.close()

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise AssertionError(
                f"mastodon-mock refused {response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text[:300]}"
            )
        return response.json()

    # -- people ----------------------------------------------------------------------------------------------------

    def person(self, name: str, display_name: str = "") -> Person:
        """A new account with its own token; the name gets a suffix so tests sharing the server never collide."""
        while True:
            username = f"{name}_{next(_NAMES)}"
            response = self.http.post(
                "/api/v1/_mock/dev_user", json={"username": username, "display_name": display_name or name.title()}
            )
            if not (response.status_code == 422 and "taken" in response.text):  # a server someone used before
                break
        body = self._check(response)
        return Person(self, body["id"], body["username"], body["access_token"])

    def login(self, username: str) -> str:
        """A further access token for an existing account (mastodon-mock's shortcut for an OAuth sign-in)."""
        return str(self._check(self.http.post("/api/v1/_mock/login", json={"username": username}))["access_token"])

    def revoke(self, token: str) -> None:
        self._check(self.http.post("/oauth/revoke", data={"token": token}))

    # -- faults (mastodon-mock only) -------------------------------------------------------------------------------

    def add_fault(self, *, path: str | None = None, path_regex: str | None = None, methods: list[str] | None = None,
                  effect: dict[str, Any], count: int | None = None) -> str:
        """A rule the server applies to matching requests (the path only: query strings are not matched)."""
        rule = {"match": {"path": path, "path_regex": path_regex, "methods": methods}, "effect": effect,
                "count": count}
        return str(self._check(self.http.post("/api/v1/_mock/faults", json=rule))["id"])

    def faults(self) -> list[dict[str, Any]]:
        return list(self._check(self.http.get("/api/v1/_mock/faults")))

    def clear_faults(self) -> None:
        self._check(self.http.delete("/api/v1/_mock/faults"))

    # -- the truth, read through the API ---------------------------------------------------------------------------

    def status(self, status_id: str, viewer: Person | None = None) -> Status | None:
        """The status as the server reports it now, or ``None`` when it was deleted."""
        response = self.http.get(f"/api/v1/statuses/{status_id}", headers=viewer.auth if viewer else None)
        if response.status_code == 404:
            return None
        return self._check(response)

    def context(self, status_id: str, viewer: Person) -> dict[str, list[Status]]:
        return self._check(self.http.get(f"/api/v1/statuses/{status_id}/context", headers=viewer.auth))

    def account(self, account_id: str) -> dict[str, Any]:
        return self._check(self.http.get(f"/api/v1/accounts/{account_id}"))

    def statuses_by(self, person: Person) -> list[Status]:
        """Everything ``person`` posted, direct messages included (seen by themselves)."""
        return list(self._check(self.http.get(
            f"/api/v1/accounts/{person.id}/statuses", params={"limit": 40}, headers=person.auth
        )))

    def whole_thread(self, status_id: str, viewer: Person) -> list[Status]:
        """Ancestors, the status and its descendants, oldest first as the server orders them."""
        context = self.context(status_id, viewer)
        status = self.status(status_id, viewer)
        assert status is not None, f"status {status_id} is gone"
        return [*context["ancestors"], status, *context["descendants"]]

    # -- Tend's ids for the server's objects -----------------------------------------------------------------------

    def post_id(self, status: Status | str) -> str:
        native = status if isinstance(status, str) else status["id"]
        return f"mastodon:{self.netloc}/{native}"

    def author_id(self, account: Person | dict[str, Any] | str) -> str:
        native = account if isinstance(account, str) else account.id if isinstance(account, Person) else account["id"]
        return f"mastodon:{self.netloc}/{native}"


@dataclass
class Person:
    """A customer (or the business) acting on the server through its REST API with their own token."""

    server: MastodonMock
    id: str
    username: str
    token: str = field(repr=False)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def mention(self) -> str:
        # The mock only resolves the bare local form; "@name@127.0.0.1:PORT" would not be a mention there.
        return f"@{self.username}"

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.server.http.request(method, path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)
        body = self.server._check(response)
        if method != "GET":
            time.sleep(GAP_BETWEEN_WRITES_S)
        return body

    def post(self, text: str, *, visibility: str = "public", in_reply_to: Status | None = None) -> Status:
        body: dict[str, Any] = {"status": text, "visibility": visibility}
        if in_reply_to is not None:
            body["in_reply_to_id"] = in_reply_to["id"]
        return self._send("POST", "/api/v1/statuses", json=body)

    def mentioning(self, other: Person, text: str, *, visibility: str = "public") -> Status:
        return self.post(f"{other.mention} {text}", visibility=visibility)

    def reply(self, status: Status, text: str, *, to: Person | None = None, visibility: str | None = None) -> Status:
        """Reply as a Mastodon client does: mentioning whom you answer, keeping the parent's visibility."""
        mention = f"{to.mention} " if to is not None else ""
        return self.post(f"{mention}{text}", visibility=visibility or status["visibility"], in_reply_to=status)

    def message(self, other: Person, text: str) -> Status:
        """A direct message: a status with visibility ``direct`` that mentions the recipient."""
        return self.post(f"{other.mention} {text}", visibility="direct")

    def follow(self, other: Person) -> None:
        self._send("POST", f"/api/v1/accounts/{other.id}/follow")

    def boost(self, status: Status) -> Status:
        return self._send("POST", f"/api/v1/statuses/{status['id']}/reblog")

    def favourite(self, status: Status) -> Status:
        return self._send("POST", f"/api/v1/statuses/{status['id']}/favourite")

    def edit(self, status: Status, text: str) -> Status:
        return self._send("PUT", f"/api/v1/statuses/{status['id']}", json={"status": text})

    def delete(self, status: Status) -> None:
        self._send("DELETE", f"/api/v1/statuses/{status['id']}")


# -- the command line, as an owner runs it ---------------------------------------------------------------------------


@dataclass
class Tend:
    """``tend --db FILE ...`` in a child process, with its own HOME (and so its own keyring file)."""

    db: Path
    home: Path
    repo_root: Path
    timeout: float = 60.0

    def env(self) -> dict[str, str]:
        env = {**os.environ, "HOME": str(self.home), "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6",
               "PYTHON_KEYRING_BACKEND": os.environ.get("PYTHON_KEYRING_BACKEND",
                                                        "keyrings.alt.file.PlaintextKeyring")}
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env.pop(name, None)
        return env

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        # ``python -m console`` from the repository root is the ``tend`` entry point (console.app:main) running
        # the code under test, whichever checkout the installed script would have pointed at.
        return subprocess.run(
            [sys.executable, "-m", "console", "--db", str(self.db), *args],
            input=stdin, capture_output=True, text=True, timeout=self.timeout, cwd=self.repo_root, env=self.env(),
        )

    def add_mastodon(self, server_url: str, token: str) -> subprocess.CompletedProcess[str]:
        return self.run("account", "add", "mastodon", "--server", server_url, "--token-stdin", stdin=token + "\n")

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


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
