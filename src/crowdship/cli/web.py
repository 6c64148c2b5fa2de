"""``crowdship web``: what the pages' build needs from the Python side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crowdship.cli.common import console

web_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Build inputs for the pages (scripts/setup runs these).",
    no_args_is_help=True,
)


@web_app.command("openapi")
def openapi_command(
    out: Annotated[Path, typer.Option(help="Where to write the OpenAPI document (JSON).")] = Path(
        "web/openapi.json"
    ),
) -> None:
    """Write the service's OpenAPI document; the pages' TypeScript types are generated
    from it, so the pages use the service's own data shapes."""
    import tempfile

    from crowdship.service.app import create_app
    from crowdship.service.context import ServiceContext
    from crowdship.service.settings import Settings

    # A throwaway database that is never opened: the document needs the routes, not data.
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(database_url=f"sqlite:///{scratch}/unused.db", scheduler=False)
        context = ServiceContext.build(settings)
        document = create_app(context).openapi()
        context.db.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1, sort_keys=True))
    console.print(f"wrote {out} ({len(document['paths'])} paths)")


@web_app.command("basemap")
def basemap_command(
    out: Annotated[Path, typer.Option(help="Where to write the street lines (JSON).")] = Path(
        "web/public/basemap.json"
    ),
) -> None:
    """Write the offline base map: the bundled OpenStreetMap extract's streets."""
    from crowdship.web.basemap import write

    lines = write(out)
    console.print(f"wrote {out} ({lines} street lines)")
