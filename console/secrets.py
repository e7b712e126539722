"""Access tokens and passwords live in the operating system's keyring, never in the inbox, settings or logs.

``PYTHON_KEYRING_BACKEND`` is honoured (keyring does that itself), which is how tests and CI use a file backend in a
temporary HOME. When no real backend exists the owner is told what to install instead of Tend silently falling
back to storing secrets in plain text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import keyring
import keyring.errors

T = TypeVar("T")

SERVICE = "Tend"

_NO_KEYRING = (
    "Tend keeps your account passwords in your computer's keyring, and none is available. "
    "On Linux install and unlock GNOME Keyring or KWallet (for example `apt install gnome-keyring`); "
    "on macOS and Windows the system keychain is used automatically."
)


class SecretStoreUnavailable(Exception):
    """No usable OS keyring: the message says what the owner can do about it."""


def _key(account_id: str, kind: str) -> str:
    return f"{account_id}/{kind}"


def _backend() -> keyring.backend.KeyringBackend:
    try:
        backend = keyring.get_keyring()
    except ImportError as error:  # PYTHON_KEYRING_BACKEND names a backend that is not installed
        raise SecretStoreUnavailable(f"{_NO_KEYRING} (The configured keyring could not be loaded: {error}.)") from None
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if name.startswith(("keyring.backends.fail", "keyring.backends.null")):
        raise SecretStoreUnavailable(_NO_KEYRING)
    return backend


def store_secret(account_id: str, kind: str, value: str) -> None:
    try:
        _backend().set_password(SERVICE, _key(account_id, kind), value)
    except keyring.errors.KeyringError as error:
        raise SecretStoreUnavailable(f"{_NO_KEYRING} (The keyring said: {type(error).__name__}.)") from None


def load_secret(account_id: str, kind: str) -> str | None:
    try:
        return _backend().get_password(SERVICE, _key(account_id, kind))
    except keyring.errors.KeyringError as error:
        raise SecretStoreUnavailable(f"{_NO_KEYRING} (The keyring said: {type(error).__name__}.)") from None


def delete_secret(account_id: str, kind: str) -> None:
    """Forget a secret; forgetting one that is not there is not an error."""
    try:
        _backend().delete_password(SERVICE, _key(account_id, kind))
    except keyring.errors.PasswordDeleteError:
        return
    except keyring.errors.KeyringError as error:
        raise SecretStoreUnavailable(f"{_NO_KEYRING} (The keyring said: {type(error).__name__}.)") from None


# A plain Python thread, not qasync's default (QThread) executor: Qt aborts the process at exit when a QThread is
# still alive, and the app never closes its loop's executor.
_KEYRING_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tend-keyring")


async def off_loop(function: Callable[..., T], *args: object) -> T:
    """Run a keyring call without blocking the event loop: an OS keyring may wait for the owner to unlock it."""
    return await asyncio.wrap_future(_KEYRING_THREAD.submit(function, *args))
