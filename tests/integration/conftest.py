"""Fixtures for the integration tests: one mastodon-mock server per session, a fresh Tend inbox per test.

The server is a child process on a free 127.0.0.1 port, started once (it takes about a second) and always stopped,
whatever happens in the tests. Tests never share people or inboxes: each creates its own business and customers
under unique names, so they can run in any order against the same server. Fault rules are global on the server, so
every test leaves with none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mastodon_world import MastodonMock, MockServerProcess, Tend, running_mastodon_mock

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mastodon_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServerProcess]:
    with running_mastodon_mock(tmp_path_factory.mktemp("mastodon-mock")) as server:
        yield server


@pytest.fixture
def mastodon(mastodon_process: MockServerProcess) -> Iterator[MastodonMock]:
    """The running server: people, faults and the truth as it reports it."""
    if mastodon_process.process.poll() is not None:
        pytest.fail(f"mastodon-mock died earlier in the session:\n{mastodon_process.log_tail()}")
    server = MastodonMock(mastodon_process.base_url)
    try:
        yield server
    finally:
        try:
            server.clear_faults()
        finally:
            server.close()


@pytest.fixture
def tend(tmp_path: Path) -> Tend:
    """The `tend` command on an inbox file of its own, with its own HOME (so its own keyring)."""
    home = tmp_path / "home"
    home.mkdir()
    return Tend(db=tmp_path / "inbox.db", home=home, repo_root=REPO_ROOT)
