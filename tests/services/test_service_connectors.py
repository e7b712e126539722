"""Which connector serves which account: Mastodon accounts get their token from the keyring, or a reason why not."""

from __future__ import annotations

import sys
import types

import pytest

from console.domain import Account
from console.secrets import SecretStoreUnavailable
from console.services.connectors import Unserved, connectors_for

SHOP = Account("mastodon:shop@example.social", "mastodon", "@shop@example.social", "https://example.social")
DEMO = Account("demo-mastodon", "mastodon", "@bakery", "demo://mastodon")


class RecordingConnector:
    """Stands in for console.connectors.mastodon.MastodonConnector (written separately) to see what it is given."""

    def __init__(self, account: Account, token: str) -> None:
        self.account = account
        self.token = token


@pytest.fixture
def mastodon_module(monkeypatch: pytest.MonkeyPatch) -> type[RecordingConnector]:
    module = types.ModuleType("console.connectors.mastodon")
    module.MastodonConnector = RecordingConnector
    monkeypatch.setitem(sys.modules, "console.connectors.mastodon", module)
    return RecordingConnector


def test_a_mastodon_account_gets_its_token_from_the_keyring(mastodon_module) -> None:
    asked: list[tuple[str, str]] = []

    def load(account_id: str, kind: str) -> str:
        asked.append((account_id, kind))
        return "the-token"

    connectors, unserved = connectors_for([SHOP], load_token=load)
    (connector,) = connectors
    assert isinstance(connector, RecordingConnector)
    assert (connector.account, connector.token) == (SHOP, "the-token")
    assert asked == [(SHOP.id, "access_token")] and unserved == []


def test_a_missing_token_leaves_the_account_unserved_with_a_reason(mastodon_module) -> None:
    connectors, unserved = connectors_for([SHOP], load_token=lambda *_: None)
    assert connectors == []
    assert unserved == [Unserved(SHOP, unserved[0].reason)] and "reconnect" in unserved[0].reason


def test_no_keyring_leaves_the_account_unserved_with_the_keyring_advice(mastodon_module) -> None:
    def load(*_args: str) -> str:
        raise SecretStoreUnavailable("install GNOME Keyring")

    _connectors, (item,) = connectors_for([SHOP], load_token=load)
    assert item.reason == "install GNOME Keyring"


def test_without_the_mastodon_connector_the_demo_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "console.connectors.mastodon", None)  # makes the import fail
    connectors, (item,) = connectors_for([DEMO, SHOP], load_token=lambda *_: "t")
    assert [c.account.id for c in connectors] == [DEMO.id]
    assert item.account == SHOP and "cannot sync Mastodon" in item.reason


def test_other_networks_are_unserved_for_now() -> None:
    threads = Account("threads:shop", "threads", "@shop", "https://graph.threads.net")
    _connectors, (item,) = connectors_for([threads])
    assert "cannot sync threads yet" in item.reason


BLUESKY = Account("bluesky:did:plc:shop", "bluesky", "@shop.bsky.social", "https://pds.example",
                  remote_id="did:plc:shop")


def test_a_bluesky_account_gets_its_refresh_token_and_saves_rotations_to_the_keyring() -> None:
    import asyncio

    from console.connectors.bluesky import BlueskyConnector

    asked: list[tuple[str, str]] = []
    stored: list[tuple[str, str, str]] = []

    def load(account_id: str, kind: str) -> str:
        asked.append((account_id, kind))
        return "the-refresh-token"

    (connector,), unserved = connectors_for([BLUESKY], load_token=load,
                                            store_token=lambda *args: stored.append(args))
    assert isinstance(connector, BlueskyConnector) and unserved == []
    assert asked == [(BLUESKY.id, "refresh_token")]
    assert connector.session.refresh_token == "the-refresh-token"
    asyncio.run(connector.session._store("rotated"))  # what the session does after each rotation
    assert stored == [(BLUESKY.id, "refresh_token", "rotated")]
    asyncio.run(connector.aclose())


def test_a_bluesky_account_without_a_saved_sign_in_is_unserved_with_a_reason() -> None:
    _connectors, (item,) = connectors_for([BLUESKY], load_token=lambda *_: None)
    assert item.account == BLUESKY and "tend account add bluesky" in item.reason
