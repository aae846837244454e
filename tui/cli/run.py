"""What every command that goes through the engine shares: the registry it loads, the store it
opens for one call, and the choice of the plain-sqlite3 read path instead."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobdeck.core.engine import Engine
    from jobdeck.core.registry import Registry
    from jobdeck.storage.sqlite.peek import Peek


def registry_for(args: argparse.Namespace) -> Registry:
    from jobdeck.core.demo import demo_registry

    registry = demo_registry()
    spec = getattr(args, "worker_handlers", None) or args.handlers
    return registry.merge(load_registry(spec)) if spec else registry


def load_registry(spec: str) -> Registry:
    """Import exactly the `module:attr` the user named and check it is a Registry."""
    from jobdeck.core.errors import InvalidInput, NotFound
    from jobdeck.core.registry import Registry

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr or not all(p.isidentifier() for p in module_name.split(".")):
        raise InvalidInput(
            f"--handlers wants MODULE:ATTR, such as examples.shop:registry, not {spec!r}."
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise NotFound(f"cannot import {module_name!r}: {err}.") from None
    value = getattr(module, attr, None)
    if not isinstance(value, Registry):
        raise InvalidInput(f"{spec} is not a jobdeck Registry.")
    return value


def run_engine(
    args: argparse.Namespace,
    body: Callable[[Engine], Awaitable[int]],
    *,
    existing: bool = False,
    db: str | None = None,
    read_only: bool = False,
) -> int:
    from jobdeck.core.engine import Engine
    from jobdeck.storage import open_store

    registry = registry_for(args)

    async def go() -> int:
        # A read-only store takes no write lock, starts no checkpoint thread and runs no
        # PRAGMA optimize on close (which at a million jobs is most of a read command's time).
        store = await open_store(db or args.db, create=not existing, read_only=read_only)
        try:
            return await body(Engine(store, registry))
        finally:
            await store.close()

    import asyncio

    return asyncio.run(go())


def sqlite_file(args: argparse.Namespace) -> bool:
    """Whether a read command may look at the database with plain sqlite3 (storage.peek) instead
    of the engine: a SQLite path or URL, and no --handlers module (loading and checking one is
    the engine's part, and a bad one is refused by every command alike)."""
    return not args.handlers and ("://" not in args.db or args.db.startswith("sqlite:///"))


def open_peek(args: argparse.Namespace) -> Peek | None:
    """A read-only look at the SQLite file, without importing pydantic, the contract models or
    asyncio (the engine costs several times Python's own start-up); None when the command must
    go through the engine (see `sqlite_file` and `Peek.open`)."""
    if not sqlite_file(args):
        return None
    from jobdeck.storage.sqlite.peek import Peek

    return Peek.open(args.db)
