"""GraphiQL without internet (graphiql.py): every script and style of the page is served
by the server itself, byte for byte what the page's integrity hashes name."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx

import pinzhi
from tests.helpers import client_for, make_app

ASSETS = Path(pinzhi.__file__).parent / "static" / "graphiql"

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class Assets(HTMLParser):
    """Every script and stylesheet a page references, with its integrity attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and named.get("src"):
            self.found.append((named["src"] or "", named.get("integrity")))
        if tag == "link" and named.get("rel") == "stylesheet":
            self.found.append((named.get("href") or "", named.get("integrity")))


def assets_of(html: str) -> list[tuple[str, str | None]]:
    parser = Assets()
    parser.feed(html)
    return parser.found


async def test_every_asset_of_the_page_is_served_locally(api) -> None:
    page = await api.http.get("/graphql", headers=BROWSER)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = assets_of(page.text)
    assert len(assets) == 7  # react, react-dom, js-cookie, graphiql js+css, explorer js+css
    assert not re.search(r"(src|href)=\"https?://", page.text)
    for url, integrity in assets:
        assert url.startswith("/graphiql/"), url
        response = await api.http.get(url)
        assert response.status_code == 200, url
        kind = "text/css" if url.endswith(".css") else "javascript"
        assert kind in response.headers["content-type"], url
        digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert integrity == f"sha384-{digest}", url


def test_every_vendored_package_keeps_its_licence() -> None:
    folders = {path.parent for path in ASSETS.rglob("*.js")} | {
        path.parent for path in ASSETS.rglob("*.css")
    }
    packages = {next(p for p in (f, *f.parents) if "@" in p.name[1:]) for f in folders}
    assert len(packages) == 5
    for package in packages:
        licence = (package / "LICENSE").read_text(encoding="utf-8")
        assert "MIT" in licence and "Permission is hereby granted" in licence, package
    readme = (ASSETS / "README.md").read_text(encoding="utf-8")
    for package in packages:
        name, version = package.relative_to(ASSETS).as_posix().rsplit("@", 1)
        assert f"| `{name}` | {version} |" in readme


async def test_the_page_follows_a_root_path(db, cache) -> None:
    app = make_app(cache)
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = await http.get("/api/graphql", headers=BROWSER)
    urls = [url for url, _ in assets_of(page.text)]
    assert urls and all(url.startswith("/api/graphiql/") for url in urls)


async def test_without_graphiql_there_is_no_page_and_no_assets(db, cache) -> None:
    async with client_for(make_app(cache, graphiql=False)) as http:
        page = await http.get("/graphql", headers=BROWSER)
        asset = await http.get("/graphiql/graphiql@3.8.3/graphiql.min.js")
        query = await http.get("/graphql", params={"query": "{ __typename }"})
    assert page.status_code == 400
    assert page.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert asset.status_code == 404
    assert query.json() == {"data": {"__typename": "Query"}}
