"""The recordings of a real Mastodon 4.6.4 server, as test data: interactions, and the objects inside them.

``../shared/fixtures/mastodon/cassettes*/`` hold VCR.py recordings made by Mastodon.py's test suite (see
``fixtures/SOURCES.md``). Scenarios are built from the real objects in them (statuses, accounts, notifications);
where a scenario needs a shape no recording has (a boost notification, a reply chain), it is composed from recorded
objects with the changed fields named at the call site.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

# Next to the repository (``../shared/fixtures``), or wherever TEND_FIXTURES points.
FIXTURES = Path(os.environ.get("TEND_FIXTURES") or Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
                ) / "mastodon"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The recordings' people (ids on the recorded server). The business is mastodonpy_test: it receives the mentions.
BUSINESS = "117020565966271181"  # @mastodonpy_test
ADMIN = "117020565693913441"  # @admin, who mentions the business in the recordings
CUSTOMER = "117020566092212359"  # @mastodonpy_test_2


@dataclass(frozen=True)
class Interaction:
    """One recorded request and the real server's answer."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    request_headers: dict[str, str]
    request_body: str | None
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def normal_path(path: str) -> str:
    return path.rstrip("/") or "/"


@functools.cache
def cassette(name: str) -> tuple[Interaction, ...]:
    """The interactions of ``cassettes/<name>.yaml`` (or ``<folder>/<name>.yaml``), in recorded order."""
    path = FIXTURES / (name if "/" in name else f"cassettes/{name}")
    data = yaml.load(path.with_suffix(".yaml").read_text(encoding="utf-8"), Loader=_Loader)
    found = []
    for item in data["interactions"]:
        request, response = item["request"], item["response"]
        parts = urlsplit(request["uri"])
        body = response["body"]["string"]
        found.append(Interaction(
            method=request["method"],
            path=normal_path(parts.path),
            query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
            request_headers={k.lower(): v[0] for k, v in request["headers"].items()},
            request_body=request["body"],
            status=response["status"]["code"],
            headers={k.lower(): v[0] for k, v in response["headers"].items()},
            body=body.encode() if isinstance(body, str) else body,
        ))
    return tuple(found)


def recorded(name: str, method: str, path: str, nth: int = 0) -> Any:
    """A fresh copy of the JSON body of the ``nth`` recorded ``method path`` in cassette ``name``."""
    matches = [i for i in cassette(name) if i.method == method and i.path == normal_path(path)]
    return matches[nth].json()


@functools.cache
def _recorded_objects() -> dict[str, dict[str, Any]]:
    """Every status, account and notification any recording contains, by kind and id (first sighting wins)."""
    index: dict[str, dict[str, Any]] = {"status": {}, "account": {}, "notification": {}}

    def visit(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            if "type" in value and "group_key" in value and "id" in value:
                index["notification"].setdefault(value["id"], value)
            elif "content" in value and "visibility" in value and "account" in value:
                index["status"].setdefault(value["id"], value)
            elif "acct" in value and "followers_count" in value:
                index["account"].setdefault(value["id"], value)
            for item in value.values():
                visit(item)

    for path in sorted(FIXTURES.glob("cassettes*/*.yaml")):
        for interaction in cassette(f"{path.parent.name}/{path.stem}"):
            text = interaction.body.decode("utf-8", "replace")
            for chunk in [text, *(line[6:] for line in text.splitlines() if line.startswith("data: "))]:
                try:
                    visit(json.loads(chunk))
                except ValueError:
                    pass
    return index


def recorded_status(status_id: str, **changes: Any) -> dict[str, Any]:
    """A status exactly as some recording holds it (a copy), with ``changes`` applied for a scenario."""
    return {**copy.deepcopy(_recorded_objects()["status"][status_id]), **changes}


def recorded_account(account_id: str, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(_recorded_objects()["account"][account_id]), **changes}


def recorded_notification(notification_id: str, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(_recorded_objects()["notification"][notification_id]), **changes}


def notification(notification_id: str, type_: str, account: dict[str, Any], status: dict[str, Any] | None,
                 created_at: str) -> dict[str, Any]:
    """A notification of any type in the recorded envelope (the recordings only hold mentions as v1 envelopes)."""
    envelope = recorded_notification("20", id=notification_id, type=type_, created_at=created_at,
                                     group_key=f"ungrouped-{notification_id}", account=account)
    if status is None:
        envelope.pop("status")
    else:
        envelope["status"] = status
    return envelope


def recorded_events(name: str, path: str) -> list[tuple[str, Any]]:
    """The server-sent events of a recorded stream, as ``(event name, parsed data)``."""
    [interaction] = [i for i in cassette(name) if i.path == normal_path(path)]
    events, name_ = [], "message"
    for line in interaction.body.decode().splitlines():
        if line.startswith("event: "):
            name_ = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
            try:
                events.append((name_, json.loads(data)))
            except ValueError:
                events.append((name_, data))
    return events
