"""Network connectors behind one async interface, and the HTTP machinery they share."""

from console.connectors.base import Connector, OutgoingReply
from console.connectors.errors import (
    AuthExpired,
    BadResponse,
    ConnectorError,
    InsecureURL,
    RateLimited,
    ServerError,
)

__all__ = [
    "AuthExpired",
    "BadResponse",
    "Connector",
    "ConnectorError",
    "InsecureURL",
    "OutgoingReply",
    "RateLimited",
    "ServerError",
]
