"""PostgreSQL's and the network's errors as jobdeck sentences. An asyncpg exception never leaves
`jobdeck.storage`."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import asyncpg

from jobdeck.core.errors import StorageError, StoreUnavailable

# The errors a store method turns into a StorageError: the server's, the driver's, the network's.
DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)
# The driver's error for a connection whose protocol lost track when the server ended its session
# mid-transaction (MagicStack/asyncpg#784): the connection must never be used again.
CONFUSED = asyncpg.InternalClientError
# Errors that mean "run the whole transaction again": a deadlock or a serialization failure.
RETRYABLE = (asyncpg.exceptions.TransactionRollbackError,)


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` means the server is out of reach for now rather than refusing this call:
    nothing listens (a restart), it is starting up or shutting down, it ended the session
    (`pg_terminate_backend`, an immediate or crash shutdown), or the connection broke under a
    call. A later call on a fresh connection may succeed; the pool opens one on next acquire."""
    e = asyncpg.exceptions
    if isinstance(exc, socket.gaierror):
        return False  # a name that does not resolve is a wrong URL more often than a blip
    if isinstance(exc, OSError | TimeoutError):
        return True
    if isinstance(exc, e.CannotConnectNowError | e.AdminShutdownError | e.CrashShutdownError):
        return True
    if isinstance(exc, e.PostgresConnectionError):
        return not isinstance(exc, e.ConnectionRejectionError)
    if isinstance(exc, CONFUSED):
        return True
    # The driver's own word for a connection that broke between or under calls.
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a PostgreSQL URL points, for sentences (never the password)."""

    url: str
    user: str
    host: str
    database: str

    @property
    def shown(self) -> str:
        """The URL without its password, as messages and `store.path` show it."""
        return f"postgresql://{self.user}@{self.host}/{self.database}"


def parse_url(url: str) -> Target:
    """Split a postgresql:// URL into what messages name; raises StorageError for a URL that is
    not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise StorageError(f"{_redact(url)} is not a valid PostgreSQL URL ({exc}).") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise StorageError(f"{_redact(url)} is not a PostgreSQL URL.")
    host = parts.hostname or "localhost"
    where = f"{host}:{port}" if port else host
    user = unquote(parts.username or "") or "(default user)"
    database = unquote(parts.path.lstrip("/")) or "(default database)"
    return Target(url, user, where, database)


def _redact(url: str) -> str:
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, credentials = head.partition("//")
    return f"{scheme}//{credentials.split(':', 1)[0]}:***@{tail}"


def storage_error(exc: BaseException, target: Target) -> StorageError:
    """One sentence for a person about what went wrong with the database `target` names: a
    StoreUnavailable when the server is out of reach for now (see `unreachable`)."""
    error = _sentence(exc, target)
    if unreachable(exc):
        return StoreUnavailable(str(error))
    return error


def _sentence(exc: BaseException, target: Target) -> StorageError:
    e = asyncpg.exceptions
    detail = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    where = f"the PostgreSQL server at {target.host}"
    if isinstance(exc, socket.gaierror):
        return StorageError(f"cannot find the PostgreSQL host {target.host} ({detail}).")
    if isinstance(exc, ConnectionRefusedError):
        return StorageError(f"cannot reach {where}: nothing accepts connections there.")
    if isinstance(exc, TimeoutError):
        return StorageError(f"{where} did not answer in time.")
    if isinstance(exc, OSError):
        return StorageError(f"cannot reach {where} ({exc.strerror or detail}).")
    if isinstance(exc, e.InvalidPasswordError):
        return StorageError(f"{where} refused the password of user {target.user}.")
    if isinstance(exc, e.InvalidAuthorizationSpecificationError):
        return StorageError(f"{where} refused user {target.user} ({detail}).")
    if isinstance(exc, e.InvalidCatalogNameError):
        return StorageError(
            f"the database {target.database} does not exist on {where}; create it first."
        )
    if isinstance(exc, e.InsufficientPrivilegeError):
        return StorageError(f"user {target.user} may not do this on {target.shown} ({detail}).")
    if isinstance(exc, e.ReadOnlySQLTransactionError):
        return read_only_error(target)
    if isinstance(exc, e.CannotConnectNowError):
        return StorageError(f"{where} accepts no connections now ({detail}).")
    if isinstance(exc, e.TooManyConnectionsError):
        return StorageError(f"{where} accepts no more connections now ({detail}).")
    if isinstance(exc, e.AdminShutdownError | e.CrashShutdownError):
        return StorageError(f"{where} ended the session ({detail}).")
    if isinstance(exc, e.PostgresConnectionError | asyncpg.InterfaceError | CONFUSED):
        return StorageError(f"lost the connection to {where} ({detail}).")
    return StorageError(f"PostgreSQL failed on {target.shown} ({detail}).")


def read_only_error(target: Target) -> StorageError:
    return StorageError(
        f"the database {target.shown} is open read-only; open it writable to change it."
    )
