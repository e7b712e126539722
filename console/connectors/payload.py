"""Checking the shape of JSON a network sent, so a surprise becomes one owner-readable ``BadResponse``.

Every network module reads payloads the same way; only the network's name and its sentence for the owner differ.
"""

from __future__ import annotations

from typing import Any

from console.connectors.errors import BadResponse

Json = dict[str, Any]


class PayloadReader:
    """Shape checks that raise ``BadResponse(unreadable, detail="<network> <what>: <problem>")``."""

    def __init__(self, network: str, unreadable: str) -> None:
        self.network = network
        self.unreadable = unreadable

    def malformed(self, what: str, problem: str) -> BadResponse:
        return BadResponse(self.unreadable, detail=f"{self.network} {what}: {problem}")

    def as_object(self, value: Any, what: str) -> Json:
        if not isinstance(value, dict):
            raise self.malformed(what, f"expected an object, got {type(value).__name__}")
        return value

    def as_list(self, value: Any, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.malformed(what, f"expected a list, got {type(value).__name__}")
        return value
