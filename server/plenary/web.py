"""HTTP: the pages, their static files, and the health check."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .store import Database


def content_security_policy(public_url: str) -> str:
    """The pages' CSP: their own scripts, styles and socket, nothing from elsewhere.

    User text can never run as script even if a bug rendered it as HTML, and
    injected code could not open a socket to another host: ``connect-src`` names
    only this origin ('self', which CSP 3 extends to ws:/wss: on the same host,
    and the public URL's websocket origin for browsers that do not).
    """
    scheme, _, rest = public_url.partition("://")
    ws_origin = ("wss://" if scheme == "https" else "ws://") + rest.split("/", 1)[0]
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {ws_origin}; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


def security_headers(public_url: str) -> list[tuple[bytes, bytes]]:
    """The headers every HTTP response carries."""
    return [
        (b"content-security-policy", content_security_policy(public_url).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]


class SecurityHeaders:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.headers = security_headers(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def routes(static_dir: Path, db: Database) -> list[Route | Mount]:
    """The HTTP routes: one page per role, static files, and /healthz."""

    def page(name: str) -> Route:
        path = static_dir / f"{name}.html"

        async def serve(request: Request) -> Response:
            # Pages are tiny and change with releases: always revalidate.
            return FileResponse(path, headers={"cache-control": "no-cache"})

        return serve

    async def service_worker(request: Request) -> Response:
        # From the root, so that its scope covers /j/<code>; revalidated like the pages.
        return FileResponse(static_dir / "sw.js", media_type="text/javascript",
                            headers={"cache-control": "no-cache"})

    async def healthz(request: Request) -> Response:
        try:
            await db.ping()
        except Exception as exc:
            return JSONResponse({"status": "error", "database": type(exc).__name__},
                                status_code=503)
        return JSONResponse({"status": "ok"})

    return [
        Route("/", page("join")),
        Route("/j/{code}", page("participant")),
        Route("/facilitator", page("facilitator")),
        Route("/organiser", page("organiser")),
        Route("/console", page("organiser")),
        Route("/dashboard", page("dashboard")),
        Route("/sw.js", service_worker),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=static_dir), name="static"),
    ]
