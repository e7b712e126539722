"""Mastodon JSON payloads as domain records: pure functions, no I/O.

Every field is read through a checker, so a payload that is valid JSON but not the shape Mastodon documents (missing
fields, wrong types, ids that are not ids) becomes ``BadResponse`` with a plain message, never a ``KeyError`` deep
in a sync. Ids are per server (``mastodon:<host>/<native id>``) because Mastodon ids are only unique on one server.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.connectors.mastodon_text import cap_text, html_to_text, neutralise, well_formed
from console.domain import Attachment, Author, Direction, Post, Visibility, iso_utc, parse_iso
from console.connectors.errors import BadResponse
from console.connectors.payload import Json, PageRecords, PayloadReader
from console.domain.records import Reshare, make_id

log = logging.getLogger(__name__)

NETWORK = "mastodon"
UNREADABLE = "Mastodon sent a reply Tend could not understand — Tend will try again later"
NATIVE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # also keeps ids safe to put in a URL path
_VISIBILITY = {
    "public": Visibility.PUBLIC,
    "unlisted": Visibility.UNLISTED,
    "private": Visibility.PRIVATE,
    "direct": Visibility.DIRECT,
}
# Servers with other audiences ("local" on Akkoma/GoToSocial, "limited", "mutuals_only") are never treated as
# public: a reply must not widen who can read a conversation.
_OTHER_VISIBILITY = Visibility.PRIVATE
_MAX_DESCRIPTION = 1_500
_MAX_NAME = 200

_payload = PayloadReader("Mastodon", UNREADABLE, NATIVE_ID)
malformed = _payload.malformed
as_object = _payload.as_object
as_list = _payload.as_list
objects = _payload.objects
native_id = _payload.id_field
optional_id = _payload.optional_id
text_field = _payload.text_field
count_field = _payload.count_field


# ------------------------------------------------------------------------------------------------ field checkers


def time_field(obj: Mapping[str, Any], what: str, key: str) -> str:
    """A timestamp in the inbox's form; Mastodon sends ISO 8601."""
    value = text_field(obj, what, key, required=True)
    try:
        return iso_utc(parse_iso(value))
    except (ValueError, OverflowError):  # OverflowError: "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        raise malformed(what, f"{key} is not a time: {value[:40]!r}") from None


# ------------------------------------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True)
class Scope:
    """What turning a payload into records needs to know: whose inbox, which server, who the business is, when."""

    account_id: str
    host: str
    business_id: str
    observed_at: str
    handle_domain: str = ""

    def post_id(self, native: str) -> str:
        return make_id(NETWORK, f"{self.host}/{native}")

    def author_id(self, native: str) -> str:
        return make_id(NETWORK, f"{self.host}/{native}")

    def full_acct(self, acct: str) -> str:
        """``user@domain`` for every account; local accounts come without their domain, which is the server's
        handle domain (it may differ from the web host: handles ``@x@example.com`` served at social.example.com)."""
        return acct if "@" in acct else f"{acct}@{self.handle_domain or self.host}"


def parse_author(account: Any, scope: Scope) -> Author:
    account = as_object(account, "account")
    acct = text_field(account, "account", "acct", required=True)
    if not acct or any(c.isspace() or not c.isprintable() for c in acct):  # NUL, controls: not a name
        raise malformed("account", f"acct is not a name: {acct[:40]!r}")
    name = neutralise(text_field(account, "account", "display_name")).strip()[:_MAX_NAME]
    return Author(
        id=scope.author_id(native_id(account, "account")),
        network=NETWORK,
        handle="@" + scope.full_acct(acct),
        display_name=name or acct.split("@")[0],
        followers_count=count_field(account, "account", "followers_count"),
        following_count=count_field(account, "account", "following_count"),
        posts_count=count_field(account, "account", "statuses_count"),
        url=text_field(account, "account", "url"),
        observed_at=scope.observed_at,
    )


def unwrap_reblog(status: Any) -> Json:
    """The status a boost is about: a boost itself is never a post in the inbox, only a reshare of one."""
    status = as_object(status, "status")
    inner = status.get("reblog")
    return as_object(inner, "boosted status") if inner is not None else status


def status_id(status: Json) -> str:
    return native_id(status, "status")


def status_author_id(status: Json) -> str:
    return native_id(as_object(status.get("account"), "status account"), "status account")


def reply_to(status: Json) -> str | None:
    return optional_id(status, "status", "in_reply_to_id")


def mentioned_ids(status: Json) -> set[str]:
    return {native_id(m, "mention") for m in objects(status.get("mentions") or [], "status mentions")}


def _mention_names(status: Json, scope: Scope) -> dict[str, str]:
    """Profile URL -> ``user@host`` for each mention, so the text names people unambiguously."""
    names: dict[str, str] = {}
    for mention in objects(status.get("mentions") or [], "status mentions"):
        url, acct = mention.get("url"), mention.get("acct")
        if isinstance(url, str) and isinstance(acct, str) and acct:
            names[url] = scope.full_acct(acct)
    return names


def status_text(status: Json, scope: Scope) -> str:
    body = html_to_text(
        text_field(status, "status", "content"), mentions=_mention_names(status, scope), local_host=scope.host
    )
    warning = neutralise(text_field(status, "status", "spoiler_text")).strip()
    return cap_text(f"CW: {warning}\n\n{body}".rstrip() if warning else body)


def parse_attachment(media: Json) -> Attachment:
    kind = text_field(media, "media attachment", "type") or "unknown"
    url = next(
        (well_formed(media[k]) for k in ("url", "remote_url", "preview_url") if isinstance(media.get(k), str)
         and media[k]), ""
    )
    description = neutralise(text_field(media, "media attachment", "description")).strip()
    return Attachment(kind=kind, url=url, description=description[:_MAX_DESCRIPTION])


def parse_visibility(status: Json) -> Visibility:
    return _VISIBILITY.get(text_field(status, "status", "visibility"), _OTHER_VISIBILITY)


def parse_status(status: Any, scope: Scope, *, thread_id: str) -> Post:
    """One status as an inbox post, in the thread ``thread_id`` (an inbox id) the caller worked out."""
    status = unwrap_reblog(status)
    native = status_id(status)
    author = status_author_id(status)
    parent = reply_to(status)
    edited = status.get("edited_at")
    return Post(
        id=scope.post_id(native),
        network=NETWORK,
        account_id=scope.account_id,
        thread_id=thread_id,
        author_id=scope.author_id(author),
        text=status_text(status, scope),
        created_at=time_field(status, "status", "created_at"),
        observed_at=scope.observed_at,
        parent_id=scope.post_id(parent) if parent else None,
        url=text_field(status, "status", "url") or text_field(status, "status", "uri"),
        reshare_count=count_field(status, "status", "reblogs_count"),
        quote_count=count_field(status, "status", "quotes_count"),
        like_count=count_field(status, "status", "favourites_count"),
        reply_count=count_field(status, "status", "replies_count"),
        visibility=parse_visibility(status),
        direction=Direction.OUT if scope.business_id and author == scope.business_id else Direction.IN,
        attachments=tuple(parse_attachment(m) for m in objects(status.get("media_attachments") or [],
                                                                "media attachments")),
        edited_at=time_field(status, "status", "edited_at") if edited is not None else None,
    )


# ------------------------------------------------------------------------------------------------ envelopes


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    type: str
    created_at: str
    account: Json | None
    status: Json | None


def parse_notification(value: Any) -> Notification:
    note = as_object(value, "notification")
    account, status = note.get("account"), note.get("status")
    return Notification(
        id=native_id(note, "notification"),
        type=text_field(note, "notification", "type", required=True),
        created_at=time_field(note, "notification", "created_at"),
        account=as_object(account, "notification account") if account is not None else None,
        status=unwrap_reblog(status) if status is not None else None,
    )


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    last_status: Json | None

    @property
    def last_status_id(self) -> str | None:
        return status_id(self.last_status) if self.last_status is not None else None

    @property
    def last_activity(self) -> str | None:
        return time_field(self.last_status, "conversation", "created_at") if self.last_status is not None else None


def parse_conversation(value: Any) -> Conversation:
    conversation = as_object(value, "conversation")
    last = conversation.get("last_status")
    return Conversation(native_id(conversation, "conversation"),
                        as_object(last, "conversation last status") if last is not None else None)


def parse_context(value: Any) -> tuple[list[Json], list[Json]]:
    context = as_object(value, "status context")
    return (objects(context.get("ancestors") or [], "context ancestors"),
            objects(context.get("descendants") or [], "context descendants"))


def instance_settings(value: Any) -> tuple[int | None, int | None, str]:
    """``(max_characters, characters_reserved_per_url, streaming URL)`` from an instance document (v2, or v1 and
    Pleroma's ``max_toot_chars``); ``None`` or ``""`` where the server does not say."""
    instance = value if isinstance(value, dict) else {}
    configuration = instance.get("configuration") if isinstance(instance.get("configuration"), dict) else {}
    statuses = configuration.get("statuses") if isinstance(configuration.get("statuses"), dict) else {}
    urls = configuration.get("urls") if isinstance(configuration.get("urls"), dict) else {}
    v1_urls = instance.get("urls") if isinstance(instance.get("urls"), dict) else {}

    def positive(*candidates: Any) -> int | None:
        return next((c for c in candidates if isinstance(c, int) and not isinstance(c, bool) and c > 0), None)

    streaming = urls.get("streaming") or v1_urls.get("streaming_api") or ""
    return (positive(statuses.get("max_characters"), instance.get("max_toot_chars")),
            positive(statuses.get("characters_reserved_per_url")),
            streaming if isinstance(streaming, str) else "")


# ------------------------------------------------------------------------------------------------ one page


class PageBuilder(PageRecords):
    """Collects the records of one page; a post or author seen twice keeps its last (freshest) reading."""

    scope: Scope

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope)
        self.covered: set[str] = set()  # native ids of statuses already read, with fresh counts
        self.complete: set[str] = set()  # native ids whose whole context is already in the page

    def add_author(self, account: Any) -> Author:
        author = parse_author(account, self.scope)
        self.authors[author.id] = author
        return author

    def add_reshare(self, status_native: str, account: Any, reshared_at: str) -> None:
        """``account`` boosted the status; its profile comes along, because its audience is how far the post went.
        The first sighting in a page wins: a notification's own time beats a later "seen by now" reading."""
        author = self.add_author(account)
        post_id = self.scope.post_id(status_native)
        self.reshares.setdefault((post_id, author.id), Reshare(post_id, author.id, reshared_at))

    def add_resharers(self, status_native: str, accounts: list[Any], reshared_at: str) -> None:
        """A ``reblogged_by`` list. An unreadable account is skipped (logged), not fatal: one odd profile on a
        remote server must not stop the whole thread from refreshing, every time, for good."""
        for account in accounts:
            try:
                self.add_reshare(status_native, account, reshared_at)
            except BadResponse as error:
                log.warning("skipping an unreadable Mastodon booster: %s", error.detail)

    def add_status(self, status: Json, root_native: str) -> None:
        post = parse_status(status, self.scope, thread_id=self.scope.post_id(root_native))
        self.posts[post.id] = post
        self.add_author(status.get("account"))
        self.covered.add(status_id(status))

    def add_deleted(self, natives: Iterable[str]) -> None:
        self.deleted.update(dict.fromkeys(self.scope.post_id(n) for n in natives))

    def deleted_ids(self) -> tuple[str, ...]:
        return tuple(self.deleted)  # every deletion the page heard of, read in it or not
