"""The pages: one single-page app (TypeScript, built by Vite from ``web/``) for every role.

``create_site`` is what ``crowdship serve`` runs: the service's API app with the pages in
front. It serves the built files from ``crowdship/web/dist`` and answers every page address
with the app's ``index.html``; the app then calls the same HTTP API as any other client
(signed in by an HttpOnly cookie, see ``service/routes/session.py``). Nothing here touches
the database.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from crowdship.service.app import create_app
from crowdship.service.context import ServiceContext
from crowdship.service.settings import Settings

DIST = Path(__file__).parent / "dist"
# Page addresses (the app routes on the client). /track/TOKEN is also the API's JSON
# answer: a browser asking for HTML gets the page, which then asks for the JSON.
PAGES = ("/", "/login", "/console", "/courier", "/sender", "/staff")
PAGE_PREFIXES = ("/console/", "/courier/", "/sender/", "/staff/")
TRACK_PREFIX = "/track/"


def is_page(path: str) -> bool:
    return path in PAGES or path.startswith(PAGE_PREFIXES)


def wants_html(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value.decode("latin-1")
            return "text/html" in accept and "application/json" not in accept
    return False


def security_headers(settings: Settings) -> dict[str, str]:
    """The pages load nothing from elsewhere, except map tiles when configured."""
    tiles = ""
    if settings.tile_url:
        # "{s}" picks one of several tile hosts (a., b., c.): allow them all.
        parts = urlsplit(settings.tile_url.replace("{s}", "*"))
        tiles = f" {parts.scheme}://{parts.netloc}"
    return {
        "Content-Security-Policy": (
            "default-src 'self'; "
            f"img-src 'self' data: blob:{tiles}; "
            "style-src 'self' 'unsafe-inline'; "  # Leaflet positions its layers inline
            "script-src 'self'; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # a tracking link's token stays out of Referer
        "X-Frame-Options": "DENY",
    }


class Pages:
    """Serves ``index.html`` (with the settings the app needs) and the built assets."""

    def __init__(self, settings: Settings, dist: Path = DIST) -> None:
        self.settings = settings
        self.dist = dist
        self.headers = security_headers(settings)
        self._index: tuple[float, str] | None = None  # (file's mtime, page)

    def index_html(self) -> str | None:
        """The app's page with the settings it needs; read again after a rebuild (its
        asset names change with every build)."""
        index = self.dist / "index.html"
        try:
            mtime = index.stat().st_mtime
        except FileNotFoundError:
            return None
        if self._index is None or self._index[0] != mtime:
            meta = (
                f'<meta name="crowdship-tile-url" '
                f'content="{html.escape(self.settings.tile_url or "")}">'
            )
            self._index = (mtime, index.read_text().replace("<!--crowdship-settings-->", meta))
        return self._index[1]

    async def page(self, _request: Request) -> Response:
        body = self.index_html()
        if body is None:
            return HTMLResponse(
                "<!doctype html><title>crowdship</title><p>The pages are not built. Run "
                "<code>bash scripts/setup</code> (it needs Node.js and npm).</p>",
                status_code=503,
                headers={"Retry-After": "60", **self.headers},
            )
        return HTMLResponse(body, headers={**self.headers, "Cache-Control": "no-cache"})

    async def basemap(self, _request: Request) -> Response:
        roads = self.dist / "basemap.json"
        if not roads.exists():
            return JSONResponse({"lines": [], "bbox": None})
        return FileResponse(roads, headers={"Cache-Control": "public, max-age=3600"})

    def router(self) -> Router:
        assets = self.dist / "assets"
        routes: list[Route | Mount] = [
            Route(path, self.page, methods=["GET", "HEAD"]) for path in PAGES
        ]
        routes += [
            Route(f"{prefix}{{rest:path}}", self.page, methods=["GET", "HEAD"])
            for prefix in PAGE_PREFIXES
        ]
        routes.append(Route("/map/base.json", self.basemap, methods=["GET", "HEAD"]))
        if assets.is_dir():
            routes.append(Mount("/assets", app=StaticFiles(directory=assets), name="assets"))
        return Router(routes=routes)


class PagesFirst:
    """ASGI middleware: a browser's page request (Accept: text/html) for a page address or
    a tracking link gets the app; everything else goes on to the API."""

    def __init__(self, app: ASGIApp, pages: Pages) -> None:
        self.app = app
        self.pages = pages
        self.router = pages.router()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(("/assets/", "/map/base.json")) or (
                scope["method"] in ("GET", "HEAD")
                and wants_html(scope)
                and (is_page(path) or _tracking_page(path))
            ):
                if _tracking_page(path):
                    response = await self.pages.page(Request(scope, receive))
                    await response(scope, receive, send)
                    return
                try:
                    await self.router(scope, receive, send)
                except HTTPException as error:  # a missing asset: outside FastAPI's handlers
                    answer = PlainTextResponse(error.detail, status_code=error.status_code)
                    await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _tracking_page(path: str) -> bool:
    rest = path[len(TRACK_PREFIX) :] if path.startswith(TRACK_PREFIX) else ""
    return bool(rest) and "/" not in rest


def create_site(context: ServiceContext) -> ASGIApp:
    """The service's API with the pages in front: a browser asking for a page gets the app
    before any API routing; every other request reaches the API unchanged."""
    api = create_app(context)
    api.add_middleware(PagesFirst, pages=Pages(context.settings))
    return api


def site_from_environment() -> ASGIApp:
    """``create_site`` on settings read from ``CROWDSHIP_*`` variables: what each worker
    process of ``crowdship serve --workers N`` runs (uvicorn starts the workers, and each
    builds its own database pool; the background jobs run in the supervising process)."""
    import logging

    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    return create_site(ServiceContext.build(Settings()))
