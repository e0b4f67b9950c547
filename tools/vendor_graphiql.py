"""Vendor the scripts and styles of strawberry's GraphiQL page into static/graphiql/.

The page (strawberry/static/graphiql.html) loads them from a public CDN, so it stays blank
without internet. This takes each ``https://unpkg.com/<package>@<version>/<file>`` it
references from the npm registry with ``npm pack``, checks the file against the page's
``integrity`` hash, and writes it to ``static/graphiql/<package>@<version>/<file>`` with the
package's licence. Run it after upgrading strawberry: ``python tools/vendor_graphiql.py``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "static" / "graphiql"
ASSET = re.compile(
    r'(?:src|href)="https://unpkg\.com/(?P<package>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>[\w.-]+)'
    r'/(?P<file>[^"]+)"\s+integrity="(?P<integrity>sha384-[^"]+)"'
)
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE")
# A package that ships no licence file: what its package.json declares, and where from.
DECLARED_LICENCES = {
    "@graphiql/plugin-explorer": ("graphiql", "the graphql/graphiql repository"),
}


def sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def unpack(package: str, version: str, into: Path) -> Path:
    subprocess.run(
        ["npm", "pack", "--silent", f"{package}@{version}"],
        cwd=into,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = into.glob("*.tgz")
    with tarfile.open(tarball) as archive:
        archive.extractall(into / "unpacked", filter="data")
    tarball.unlink()
    return into / "unpacked" / "package"


def main() -> int:
    assets = [m.groupdict() for m in ASSET.finditer(get_graphql_ide_html("graphiql"))]
    if not assets:
        print("no unpkg assets found in strawberry's GraphiQL page", file=sys.stderr)
        return 1
    shutil.rmtree(TARGET, ignore_errors=True)
    packages: dict[tuple[str, str], Path] = {}
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for asset in assets:
            key = (asset["package"], asset["version"])
            if key not in packages:
                work = Path(tmp) / f"{len(packages)}"
                work.mkdir()
                packages[key] = unpack(*key, work)
            source = packages[key] / asset["file"]
            data = source.read_bytes()
            if sha384(data) != asset["integrity"]:
                print(f"{asset['package']}/{asset['file']}: integrity mismatch", file=sys.stderr)
                return 1
            destination = TARGET / f"{key[0]}@{key[1]}" / asset["file"]
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
            print(f"{key[0]}@{key[1]}/{asset['file']}  {len(data):>9,} bytes")
            rows.append(
                f"| `{key[0]}` | {key[1]} | `{asset['file']}` | {len(data):,} | "
                f"`{asset['integrity']}` |"
            )
        for (package, version), unpacked in packages.items():
            folder = TARGET / f"{package}@{version}"
            licence = next((unpacked / n for n in LICENCE_NAMES if (unpacked / n).exists()), None)
            if licence is not None:
                shutil.copyfile(licence, folder / "LICENSE")
                continue
            sibling, origin = DECLARED_LICENCES[package]
            sibling_folder = next(TARGET.glob(f"{sibling}@*"))
            text = (sibling_folder / "LICENSE").read_text(encoding="utf-8")
            (folder / "LICENSE").write_text(
                f"{package} {version} ships no licence file; its package.json declares MIT.\n"
                f"It is published from {origin}, whose licence follows.\n\n{text}",
                encoding="utf-8",
            )
    (TARGET / "README.md").write_text(README.format(rows="\n".join(rows)), encoding="utf-8")
    return 0


README = """# Vendored GraphiQL assets

The GraphiQL page (`GET /graphql` in a browser) is strawberry's own page
(`strawberry/static/graphiql.html`) with its CDN addresses pointed here, so it works
without internet. Each file below is the file of that name in the package's tarball from
the npm registry (`npm pack <package>@<version>`), unchanged: its sha384 is the `integrity`
the page already names, which browsers check. Every package is MIT-licensed; each folder
keeps the package's licence as `LICENSE` (`@graphiql/plugin-explorer` ships none: its folder
holds the licence of the repository it is published from).

Written by `python tools/vendor_graphiql.py` (run it again after upgrading strawberry;
`tests/test_graphiql.py` fails while the page names a file that is not here).

| package | version | file | bytes | integrity |
|---|---|---|---:|---|
{rows}
"""


if __name__ == "__main__":
    sys.exit(main())
