"""`jobdeck metrics`: the database's Prometheus metrics over HTTP, and the same endpoint beside a
worker (`jobdeck worker --metrics-listen`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from jobdeck.tui.cli.inputs import listen_address

if TYPE_CHECKING:
    from jobdeck.core.store import Store


def cmd_metrics(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, over a read-only store: the endpoint never writes."""
    import asyncio

    from jobdeck.storage import open_store

    address = listen_address(args.listen, "--listen")

    async def serve() -> int:
        import signal

        store = await open_store(args.db, read_only=True, create=False)
        try:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            async with endpoint(store, address):
                await stop.wait()
        finally:
            await store.close()
        return 0

    return asyncio.run(serve())


@asynccontextmanager
async def endpoint(store: Store, address: tuple[str, int] | None) -> AsyncIterator[None]:
    """Serve the store's metrics at `address` (none: serve nothing) while the block runs; the
    reads run on this event loop. Says where on stderr."""
    if address is None:
        yield
        return
    import asyncio

    from jobdeck.core.metrics import serve

    server = serve(store, asyncio.get_running_loop(), *address)
    print(f"jobdeck: serving metrics at {server.url}", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        # Off the loop: a scrape under way may be waiting for a read on it.
        await asyncio.to_thread(server.close)
