"""The local SQLite inbox: schema, migrations, writes and the read queries behind the views."""

from console.store.errors import InboxCorrupt, InboxError, InboxTooNew, InboxUnavailable, NotATendInbox
from console.store.inbox import ChangeSet, Inbox
from console.store.queries import Order, PostRow, ThreadRow, View, ViewKind

__all__ = [
    "ChangeSet",
    "Inbox",
    "InboxCorrupt",
    "InboxError",
    "InboxTooNew",
    "InboxUnavailable",
    "NotATendInbox",
    "Order",
    "PostRow",
    "ThreadRow",
    "View",
    "ViewKind",
]
