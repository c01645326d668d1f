"""The ``plenary`` command: serve, demo, event create, templates, migrate."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from . import config as config_mod
from .actions import Actions
from .actions.setup import create_event
from .actions.transaction import read
from .domain.errors import DomainError
from .domain.template import TemplateError
from .domain.topics_csv import TopicSpec
from .export.cli import add_commands as add_export_commands
from .links import Links
from .setup import event_links, load_template, read_topics_file, template_files
from .store import Database
from .store import queries as q

DEMO_TITLE = "Plenary demo: growing social-enterprise and co-operative models"
DEMO_TABLES = 8


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "PLENARY_HOST": getattr(args, "host", None),
        "PORT": getattr(args, "port", None),
        "DATABASE_URL": getattr(args, "database", None),
        "PLENARY_PUBLIC_URL": getattr(args, "public_url", None),
        "PLENARY_WORKERS": getattr(args, "workers", None),
    }


def _config(args: argparse.Namespace) -> config_mod.Config:
    return config_mod.load(**_overrides(args))


def _add_server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to listen on (env PLENARY_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (env PORT, default 8000)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="server processes on this port (env PLENARY_WORKERS, default 1; "
                        "more needs REDIS_URL and PLENARY_SECRET_KEY)")
    _add_db_options(p)


def _add_db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", metavar="URL",
                   help="database URL (env DATABASE_URL, default sqlite:///plenary.db)")
    p.add_argument("--public-url", metavar="URL",
                   help="base of printed links (env PLENARY_PUBLIC_URL)")


def serve(cfg: config_mod.Config, banner: str | None = None,
          overrides: dict[str, Any] | None = None) -> None:
    """Run the server until interrupted: one process, or ``cfg.workers`` sharing one port."""
    # The server is never a socket.io client, yet importing python-socketio loads
    # engine.io's aiohttp-based client: a quarter of the CPU of every restart,
    # while every phone waits. engine.io imports aiohttp optionally; in the
    # server's own process it is left out.
    sys.modules.setdefault("aiohttp", None)  # type: ignore[arg-type]
    import uvicorn

    from .app import create_app, uvicorn_config, uvicorn_options

    cfg.check()
    if cfg.workers > 1:
        # uvicorn starts each worker afresh: it reads the settings from the
        # environment, so the command line's go there first.
        os.environ.update({k: str(v) for k, v in (overrides or {}).items() if v is not None})
        if banner:
            print(banner, flush=True)
        uvicorn.run("plenary.app:from_environment", factory=True, workers=cfg.workers,
                    **uvicorn_options(cfg))
        return
    server = uvicorn.Server(uvicorn_config(create_app(cfg)))
    if banner:
        print(banner, flush=True)
    server.run()


def _print_links(info: dict[str, Any]) -> str:
    lines = [
        "",
        f"  {info['title']}  [{info['status']}]",
        "",
        f"  Admin console     : {info['admin_url']}",
        f"  Organiser console : {info['organiser_url']}",
        f"  Plenary dashboard : {info['dashboard_url']}",
        f"  Join with a code  : {info['join_url']}",
        "",
        "  Table  Code      Topic",
    ]
    for t in info["tables"]:
        lines.append(f"  {t['number']:>5}  {t['join_code']}  {t['topic']}")
        lines.append(f"         participant: {t['participant_url']}")
        lines.append(f"         facilitator: {t['facilitator_url']}")
    lines.append("")
    return "\n".join(lines)


async def _ensure_demo(cfg: config_mod.Config) -> dict[str, Any]:
    db = Database(cfg.database_url)
    try:
        await db.migrate()
        existing = [e for e in await read(db, q.list_events) if e["title"] == DEMO_TITLE]
        if existing:
            event_id = existing[0]["id"]
        else:
            template = load_template(cfg.templates_dir, "alchemy")
            topics = [TopicSpec(t.title, t.brief) for t in template.topics]
            event_id = await create_event(db, template, title=DEMO_TITLE, topics=topics,
                                          tables=DEMO_TABLES, venue="Demo venue")
            await Actions(db, cfg.secret()).start_event(event_id)
        links = Links(cfg.public_url, cfg.secret())
        return await event_links(db, links, event_id) | {"admin_url": links.admin()}
    finally:
        await db.close()


async def _create(cfg: config_mod.Config, args: argparse.Namespace) -> dict[str, Any]:
    template = load_template(cfg.templates_dir, args.template)
    if args.topics:
        topics = [TopicSpec(t) for t in read_topics_file(Path(args.topics))]
    else:
        topics = [TopicSpec(t.title, t.brief) for t in template.topics]
    db = Database(cfg.database_url)
    try:
        await db.migrate()
        event_id = await create_event(db, template, title=args.title, topics=topics,
                                      tables=args.tables, venue=args.venue or "", date=args.date)
        links = Links(cfg.public_url, cfg.secret())
        return await event_links(db, links, event_id) | {"admin_url": links.admin()}
    finally:
        await db.close()


async def _migrate(cfg: config_mod.Config) -> None:
    db = Database(cfg.database_url)
    try:
        await db.migrate()
    finally:
        await db.close()


def cmd_serve(args: argparse.Namespace) -> int:
    cfg = _config(args)
    cfg.check()  # before cfg.secret(), which would make a key file of its own
    admin = Links(cfg.public_url, cfg.secret()).admin()
    workers = f", {cfg.workers} processes" if cfg.workers > 1 else ""
    serve(cfg, banner=f"Plenary on {cfg.public_url}  (database: {_db_label(cfg)}{workers})\n"
                      f"  Admin console (create events): {admin}", overrides=_overrides(args))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    cfg = _config(args)
    cfg.check()
    info = asyncio.run(_ensure_demo(cfg))
    hint = ""
    if cfg.host in ("127.0.0.1", "localhost"):
        hint = ("  Phones on the venue wifi? Restart with --host 0.0.0.0 --public-url "
                "http://<this laptop's address>:" + str(cfg.port) + "\n")
    serve(cfg, banner=_print_links(info) + hint, overrides=_overrides(args))
    return 0


def cmd_event_create(args: argparse.Namespace) -> int:
    cfg = _config(args)
    info = asyncio.run(_create(cfg, args))
    print(json.dumps(info, indent=2) if args.json else _print_links(info))
    return 0


def cmd_templates(args: argparse.Namespace) -> int:
    cfg = _config(args)
    files = template_files(cfg.templates_dir)
    if not files:
        print(f"No templates in {cfg.templates_dir}", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        try:
            t = load_template(cfg.templates_dir, path.stem)
        except TemplateError as exc:
            failed += 1
            print(f"INVALID {path.stem}\n{exc.message}", file=sys.stderr)
            continue
        stages = ", ".join(s.title for s in t.stages)
        print(f"{t.name:<16} {t.title}\n{'':<16} {len(t.stages)} stages: {stages}")
    return 1 if failed else 0


def cmd_migrate(args: argparse.Namespace) -> int:
    cfg = _config(args)
    asyncio.run(_migrate(cfg))
    print(f"Database is up to date: {_db_label(cfg)}")
    return 0


def _db_label(cfg: config_mod.Config) -> str:
    return cfg.database_url.split("@")[-1]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="plenary", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the server")
    _add_server_options(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="create the demo event once, print its links, and serve")
    _add_server_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("event", help="manage events")
    event_sub = p.add_subparsers(dest="event_command", required=True)
    c = event_sub.add_parser("create", help="create an event and print its links")
    c.add_argument("--template", required=True, help="template name, e.g. alchemy")
    c.add_argument("--title", required=True)
    c.add_argument("--topics", metavar="FILE",
                   help="topic titles, one per line (default: the template's topics)")
    c.add_argument("--tables", type=int, required=True, help="number of tables")
    c.add_argument("--venue")
    c.add_argument("--date", help="the event's date, YYYY-MM-DD")
    c.add_argument("--json", action="store_true", help="print one JSON object for scripts")
    _add_db_options(c)
    c.set_defaults(func=cmd_event_create)

    p = sub.add_parser("templates", help="list and validate the board templates")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("migrate", help="bring the database schema up to date")
    _add_db_options(p)
    p.set_defaults(func=cmd_migrate)

    add_export_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``plenary`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic narrates every plugin it loads at INFO; only its problems matter here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except DomainError as exc:
        print(f"plenary: {exc.message}", file=sys.stderr)
        return 2
    except config_mod.ConfigError as exc:
        print(f"plenary: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
