"""GraphiQL without internet: strawberry's page, its scripts and styles served from here.

The page is strawberry's own (so it stays the GraphiQL version strawberry was made for);
its CDN addresses are rewritten to ``/graphiql/…``, where ``static/graphiql/`` holds the very
files they name (static/graphiql/README.md says where they came from).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"
CDN = "https://unpkg.com/"


@lru_cache(maxsize=8)
def page_html(root_path: str = "") -> str:
    """Strawberry's GraphiQL page with its assets at ``root_path`` + ``/graphiql/``."""
    return get_graphql_ide_html("graphiql").replace(CDN, f"{root_path}{ASSETS_PATH}/")


def assets_app() -> StaticFiles:
    return StaticFiles(directory=ASSETS)
