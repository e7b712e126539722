"""One exception family for every network, so the sync engine handles failures the same way everywhere.

Each error's ``str()`` is a sentence an owner understands; technical detail goes in ``detail`` for the log.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """A network could not be read or written. ``retry_after`` (seconds) is set when waiting will help."""

    retry_after: float | None = None

    def __init__(self, message: str, *, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.detail = detail
        if retry_after is not None:
            self.retry_after = retry_after


class RateLimited(ConnectorError):
    """The network asked us to slow down; ``retry_after`` says for how long."""


class AuthExpired(ConnectorError):
    """The account's access was revoked or expired: the owner must reconnect it."""


class ServerError(ConnectorError):
    """The network failed (5xx), timed out or could not be reached; trying later usually works."""


class BadResponse(ConnectorError):
    """The network answered with something we cannot read (truncated, not JSON, unexpected shape)."""


class InsecureURL(ConnectorError):
    """Refused to speak plain http to a host that is not this machine."""
