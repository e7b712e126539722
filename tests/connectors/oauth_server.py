"""A Mastodon sign-in server on 127.0.0.1 that checks what a strict real server checks, and a stand-in browser.

mastodon-mock checks neither the PKCE verifier nor scopes, so this server does: it remembers each code's
challenge, redirect URI and client, and hands out a token only for the verifier whose S256 matches. Account and
instance answers are the recorded Mastodon 4.6.4 responses in ../shared/fixtures/mastodon/cassettes. Every request
is recorded so tests assert on both sides of the wire.

Shared by the connector, service, command-line and GUI tests (import the fixtures from here).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import keyring
import pytest

CASSETTES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "mastodon" / "cassettes"
RECORDED_HOST = "http://localhost:3000"
GRANULAR = ["read:accounts", "read:notifications", "read:statuses", "write:statuses"]


def recorded_bodies(cassette: str) -> list[str]:
    """The response bodies of a VCR cassette, in order.

    VCR writes bodies as YAML single-quoted scalars, folded over several lines; reading just that (quotes doubled,
    line breaks folded into spaces) keeps the tests free of a YAML dependency.
    """
    lines = (CASSETTES / cassette).read_text(encoding="utf-8").splitlines()
    bodies: list[str] = []
    i = 0
    while i < len(lines):
        match = re.match(r"^\s+string: '(.*)$", lines[i])
        if not match:
            i += 1
            continue
        pieces = [match.group(1)]
        while not _closes(pieces[-1]):
            i += 1
            pieces.append(lines[i].strip())
        text = " ".join(pieces)
        bodies.append(text[:-1].replace("''", "'"))
        i += 1
    return bodies


def _closes(piece: str) -> bool:
    """True when a line ends the quoted scalar: a final quote that is not half of an escaped ``''``."""
    stripped = piece.rstrip()
    if not stripped.endswith("'"):
        return False
    quotes = len(stripped) - len(stripped.rstrip("'"))
    return quotes % 2 == 1


def recorded_json(cassette: str, index: int = 0) -> Any:
    return json.loads(recorded_bodies(cassette)[index])


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: str
    name: str
    website: str | None


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scope: str


@dataclass
class FakeMastodonAuth:
    """The OAuth and account endpoints of one Mastodon server. Tweak the public fields to change its behaviour."""

    scopes_supported: list[str] = field(
        default_factory=lambda: recorded_json("test_auth_request_url.yaml")["scopes_supported"]
    )
    has_metadata: bool = True
    deny: bool = False
    revoke_status: int = 200
    requests: list[Seen] = field(default_factory=list)
    apps: dict[str, App] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, str | None] = field(default_factory=dict)  # token -> client_id (None: made by hand)
    failures: list[str] = field(default_factory=list)  # what a strict server would have refused, and why

    def __post_init__(self) -> None:
        self.me = recorded_json("test_verify_credentials.yaml")
        self.instance = recorded_json("test_instance.yaml")
        self._metadata = recorded_json("test_auth_request_url.yaml")
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        # The recording advertises streaming at ws://localhost:4000: whatever listens there on a test machine is not
        # this server, and an app following the stream would send it the token. Streaming is offered here instead.
        self.instance["configuration"]["urls"]["streaming"] = self.url.replace("http://", "ws://")

    # -- test controls ---------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def username(self) -> str:
        return self.me["username"]

    @property
    def account_id(self) -> str:
        """The id Tend should give the account: username at the instance's own domain (recorded: localhost:3000)."""
        return f"mastodon:{self.me['username']}@{self.instance['domain']}"

    def issue_token(self) -> str:
        """A token the owner made by hand on the server (Preferences › Development)."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = None
        return token

    def requests_to(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- endpoints -------------------------------------------------------------------------------------------------

    def answer(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(seen)
            route = (seen.method, seen.path)
            if route == ("GET", "/.well-known/oauth-authorization-server"):
                if not self.has_metadata:
                    return _json(404, {"error": "Not Found"})
                meta = json.loads(json.dumps(self._metadata).replace(RECORDED_HOST, self.url))
                return _json(200, meta | {"scopes_supported": self.scopes_supported})
            if route == ("POST", "/api/v1/apps"):
                return self._register(seen.form)
            if route == ("GET", "/oauth/authorize"):
                return self._authorize(seen.query)
            if route == ("POST", "/oauth/token"):
                return self._token(seen.form)
            if route == ("POST", "/oauth/revoke"):
                return self._revoke(seen.form)
            if route == ("GET", "/api/v1/accounts/verify_credentials"):
                if self._bearer(seen) is None:
                    return _json(401, {"error": "The access token is invalid"})
                return _json(200, self.me)
            if route == ("GET", "/api/v2/instance"):
                return _json(200, self.instance)
            return _json(404, {"error": "Not Found"})

    def _bearer(self, seen: Seen) -> str | None:
        value = seen.headers.get("authorization", "")
        token = value.removeprefix("Bearer ").strip()
        return token if value.startswith("Bearer ") and token in self.tokens else None

    def _register(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if not form.get("client_name"):
            return _json(422, {"error": "Validation failed: Client name can't be blank"})
        unknown = set(form.get("scopes", "read").split()) - set(self.scopes_supported)
        if unknown:
            self.failures.append(f"unsupported scopes {sorted(unknown)}")
            return _json(422, {"error": "Validation failed: Scopes are invalid"})
        app = App(secrets.token_urlsafe(32), secrets.token_urlsafe(32), form.get("redirect_uris", "").split(),
                  form.get("scopes", "read"), form["client_name"], form.get("website"))
        self.apps[app.client_id] = app
        recorded = recorded_json("test_app_account_create.yaml")
        return _json(200, recorded | {
            "name": app.name, "website": app.website, "scopes": app.scopes.split(), "redirect_uris": app.redirect_uris,
            "redirect_uri": app.redirect_uris[0], "client_id": app.client_id, "client_secret": app.client_secret,
        })

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        app = self.apps.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        problems = []
        if app is None:
            problems.append("unknown client")
        elif redirect_uri not in app.redirect_uris:
            problems.append(f"redirect_uri {redirect_uri} not registered")
        elif not set(query.get("scope", "").split()) <= set(app.scopes.split()):
            problems.append("scope wider than registered")
        if query.get("response_type") != "code":
            problems.append("response_type")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problems.append("no S256 PKCE challenge")
        if problems:
            self.failures += problems
            return 400, {"Content-Type": "text/html"}, f"<p>{'; '.join(problems)}</p>".encode()
        state = query.get("state", "")
        if self.deny:
            target = {"error": "access_denied",
                      "error_description": "The resource owner or authorization server denied the request.",
                      "state": state}
        else:
            code = secrets.token_urlsafe(32)
            self.grants[code] = Grant(app.client_id, redirect_uri, query["code_challenge"],
                                      query["code_challenge_method"], query.get("scope", ""))
            target = {"code": code, "state": state}
        return 302, {"Location": f"{redirect_uri}?{urlencode(target)}"}, b""

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        grant = self.grants.pop(form.get("code", ""), None)
        app = self.apps.get(form.get("client_id", ""))
        if app is None or form.get("client_secret") != app.client_secret:
            self.failures.append("token: bad client credentials")
            return _json(401, {"error": "invalid_client"})
        problems = []
        if form.get("grant_type") != "authorization_code":
            problems.append("token: grant_type")
        if grant is None:
            problems.append("token: unknown or reused code")
        else:
            if grant.client_id != app.client_id:
                problems.append("token: code issued to another client")
            if form.get("redirect_uri") != grant.redirect_uri:
                problems.append("token: redirect_uri differs from the authorization request")
            if s256(form.get("code_verifier", "")) != grant.challenge:
                problems.append("token: PKCE verifier does not match the challenge")
        if problems:
            self.failures += problems
            return _json(400, {"error": "invalid_grant"})
        token = secrets.token_urlsafe(32)
        self.tokens[token] = app.client_id
        return _json(200, {"access_token": token, "token_type": "Bearer", "scope": grant.scope,
                           "created_at": 1785592219})

    def _revoke(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.revoke_status != 200:
            return _json(self.revoke_status, {"error": "server trouble"})
        token = form.get("token", "")
        owner = self.tokens.get(token)
        if owner is not None:  # a token issued to an app: only that app may revoke it (Doorkeeper's rule)
            app = self.apps.get(form.get("client_id", ""))
            if app is None or app.client_id != owner or app.client_secret != form.get("client_secret"):
                return _json(403, {"error": "unauthorized_client"})
        self.tokens.pop(token, None)
        return _json(200, {})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode()


def _handler(server: FakeMastodonAuth) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            parts = urlsplit(self.path)
            seen = Seen(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                        dict(parse_qsl(body, keep_blank_values=True)),
                        {k.lower(): v for k, v in self.headers.items()})
            status, headers, payload = server.answer(seen)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


class FakeBrowser:
    """What the system browser does with the authorization URL: load it, follow the redirect to Tend's loopback
    listener, show the page. Runs on its own thread, as a real browser is its own process."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.pages: list[httpx.Response] = []
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
                self.pages.append(client.get(url))
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.errors.append(error)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10)

    @property
    def last_page(self) -> str:
        self.join()
        assert not self.errors, self.errors
        return self.pages[-1].text


@pytest.fixture
def auth_server() -> Iterator[FakeMastodonAuth]:
    server = FakeMastodonAuth()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser() -> FakeBrowser:
    return FakeBrowser()


@pytest.fixture
def fresh_keyring(private_home: Path) -> Iterator[keyring.backend.KeyringBackend]:
    """A file keyring under this test's HOME (keyring caches its backend, and the file's path, process-wide)."""
    from keyrings.alt.file import PlaintextKeyring

    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
