"""``plenary export`` and ``plenary import``: the record and reports from the command line.

``plenary.cli`` adds these with :func:`add_commands`. Both take the database from
``--database`` or ``DATABASE_URL`` like every other command, and bring its schema
up to date first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

from .. import config as config_mod
from ..actions.restore import restore
from ..domain.errors import InvalidPayload
from ..store import Database
from . import FORMATS, event_info, export_event, filename
from .record import rows_from_record


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` and ``import`` to the ``plenary`` command's subcommands."""
    p = subparsers.add_parser(
        "export", help="export an event: report, spreadsheet or the complete record",
        description="Export an event as a report (docx, html, md), a spreadsheet (xlsx, "
                    "csv) or its complete record (json, which `plenary import` reads). "
                    "Formats are described in docs/export.md.")
    p.add_argument("event", metavar="EVENT",
                   help="the event's id (as `plenary event create --json` prints it)")
    p.add_argument("--format", "-f", required=True, choices=list(FORMATS),
                   help="what to write")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write it ('-' for standard output; default: a file named "
                        "after the event in the current folder)")
    _add_database(p)
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser(
        "import", help="restore an event from its JSON record into this database",
        description="Restore an event from a JSON export (`plenary export EVENT --format "
                    "json`), keeping its id and every other id. Meant for an empty database: "
                    "it refuses, changing nothing, if the event or any of its ids is already "
                    "there.")
    p.add_argument("file", metavar="FILE", help="the JSON record")
    _add_database(p)
    p.set_defaults(func=cmd_import)


def _add_database(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", metavar="URL",
                   help="database URL (env DATABASE_URL, default sqlite:///plenary.db)")


def _database(args: argparse.Namespace) -> Database:
    cfg = config_mod.load(DATABASE_URL=getattr(args, "database", None))
    return Database(cfg.database_url)


# --- export ----------------------------------------------------------------------

def cmd_export(args: argparse.Namespace) -> int:
    try:
        target = asyncio.run(_export(_database(args), args.event, args.format, args.output))
    except BrokenPipeError:  # `plenary export ... -o - | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    if target is not None:
        print(f"Wrote {target}", file=sys.stderr)
    return 0


async def _export(db: Database, event_id: str, fmt: str, output: str | None) -> Path | None:
    try:
        await db.migrate()
        if output == "-":
            await export_event(db, event_id, fmt, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return None
        path = Path(output) if output else Path(filename(await event_info(db, event_id), fmt))
        await export_to_file(db, event_id, fmt, path)
        return path
    finally:
        await db.close()


async def export_to_file(db: Database, event_id: str, fmt: str, path: Path) -> None:
    """Write the export beside ``path`` and move it into place only once it is whole,
    so a failed export never leaves half a file or replaces a good one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            await export_event(db, event_id, fmt, out)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --- import ----------------------------------------------------------------------

def cmd_import(args: argparse.Namespace) -> int:
    db = _database(args)

    async def run() -> str:
        try:
            await db.migrate()
            return await import_file(db, Path(args.file))
        finally:
            await db.close()

    print(asyncio.run(run()))
    return 0


async def import_file(db: Database, path: Path) -> str:
    """Restore the event in the JSON record at ``path``; returns what was done, in words."""
    try:
        data = await asyncio.to_thread(_load_json, path)
    except FileNotFoundError:
        raise InvalidPayload(f"There is no file {str(path)!r}.", code="no_file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidPayload(f"{path} is not a JSON file: {exc}", code="bad_record") from None
    rows = rows_from_record(data)
    await restore(db, rows)
    return (f"Imported event {rows.event['id']} ({rows.event['title']}): "
            f"{len(rows.tables)} tables, {len(rows.notes)} notes, {len(rows.votes)} votes.")


def _load_json(path: Path) -> object:
    with path.open("rb") as f:
        return json.load(f)
