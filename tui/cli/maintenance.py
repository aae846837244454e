"""The commands about the database itself rather than the jobs in it: `backup` and `vacuum`.

They call the backend's maintenance module directly (jobdeck.storage.sqlite.maintenance,
jobdeck.storage.postgres.maintenance) instead of an Engine method: a copy of the file and the
space it takes are not about jobs, need no registry and no migrated store, so the Store
Protocol does not carry them.
"""

from __future__ import annotations

import argparse
import json

MB = 1_000_000


def cmd_backup(args: argparse.Namespace) -> int:
    from jobdeck.core.errors import InvalidInput
    from jobdeck.storage import is_postgres_url

    if is_postgres_url(args.db):
        raise InvalidInput(
            "backup copies a SQLite file; on PostgreSQL use pg_dump on the jobdeck schema, for "
            "example `pg_dump --schema=jobdeck --format=custom --file=FILE DATABASE`."
        )
    from jobdeck.storage.sqlite.maintenance import backup

    copy = backup(args.db, args.file, replace=args.force)
    if args.json:
        shaped = {
            "database": copy.database,
            "file": copy.file,
            "jobs": copy.jobs,
            "counts": copy.counts,
            "bytes": copy.bytes,
            "seconds": round(copy.seconds, 3),
        }
        print(json.dumps(shaped))
    else:
        jobs = f"{copy.jobs} job" if copy.jobs == 1 else f"{copy.jobs} jobs"
        print(f"backup of {copy.database} to {copy.file}: {jobs}, {megabytes(copy.bytes)}")
    return 0


def cmd_vacuum(args: argparse.Namespace) -> int:
    from jobdeck.storage import is_postgres_url

    if is_postgres_url(args.db):
        import asyncio

        from jobdeck.storage.postgres.maintenance import vacuum as vacuum_postgres

        pg = asyncio.run(vacuum_postgres(args.db))
        return _show_vacuum(args, pg.database, pg.before, pg.after, pg.freed)
    from jobdeck.storage.sqlite.maintenance import vacuum

    lite = vacuum(args.db)
    return _show_vacuum(args, lite.database, lite.before, lite.after, lite.freed, wal=lite.wal)


def _show_vacuum(
    args: argparse.Namespace,
    database: str,
    before: int,
    after: int,
    freed: int,
    *,
    wal: int | None = None,
) -> int:
    """Print the sizes; `wal` (SQLite only) is what a reader kept in the WAL past the checkpoint."""
    if args.json:
        shaped = {
            "database": database,
            "before_bytes": before,
            "after_bytes": after,
            "freed_bytes": freed,
        }
        print(json.dumps(shaped if wal is None else shaped | {"wal_bytes": wal}))
        return 0
    note = f"; a reader kept {megabytes(wal)} in the WAL until the next checkpoint" if wal else ""
    print(
        f"vacuum of {database}: {megabytes(before)} before, {megabytes(after)} after, "
        f"{megabytes(freed)} freed{note}"
    )
    return 0


def megabytes(n: int) -> str:
    return f"{n / MB:.1f} MB"
