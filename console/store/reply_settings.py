"""Per-account reply settings the owner chooses: signature name, cool-off lengths, undo window, business hours.

Kept in the inbox with the account they belong to; ``None`` in a field means "use the app's default", which
``console.replies`` owns. Saving them reloads the business hours the inbox ranks waiting threads by.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console.store.inbox import Inbox


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """Per-account reply settings; ``None`` means "use the app's default" (the replies package owns defaults)."""

    account_id: str
    signature_name: str | None = None
    cooloff_public_s: int | None = None
    cooloff_direct_s: int | None = None
    undo_s: int | None = None
    business_hours: Any = None  # JSON-compatible; its shape belongs to console.replies


def account_settings(inbox: Inbox, account_id: str) -> AccountSettings:
    row = inbox.db.execute(
        """SELECT account_id, signature_name, cooloff_public_s, cooloff_direct_s, undo_s, business_hours
           FROM account_settings WHERE account_id = ?""",
        (account_id,),
    ).fetchone()
    if row is None:
        return AccountSettings(account_id)
    return AccountSettings(*row[:5], business_hours=json.loads(row[5]) if row[5] is not None else None)


def save_account_settings(inbox: Inbox, settings: AccountSettings) -> None:
    hours = None if settings.business_hours is None else json.dumps(settings.business_hours, sort_keys=True)
    with inbox.transaction() as db:
        db.execute(
            """INSERT INTO account_settings (account_id, signature_name, cooloff_public_s, cooloff_direct_s, undo_s,
                                             business_hours)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(account_id) DO UPDATE SET signature_name = excluded.signature_name,
                   cooloff_public_s = excluded.cooloff_public_s, cooloff_direct_s = excluded.cooloff_direct_s,
                   undo_s = excluded.undo_s, business_hours = excluded.business_hours""",
            (settings.account_id, settings.signature_name, settings.cooloff_public_s, settings.cooloff_direct_s,
             settings.undo_s, hours),
        )
    inbox.reload_business_hours()
