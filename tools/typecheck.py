"""Type-check the ``pinzhi`` package with mypy, as configured in pyproject.toml [tool.mypy].

The checkout's root is the package itself (pyproject maps ``pinzhi`` to "."), and the
editable install reaches it through an import hook that mypy does not follow. So this links
the checkout as ``pinzhi`` inside a temporary directory and checks ``-p pinzhi`` from there
(MYPYPATH "."): it works from any clone, whatever its folder is called. The tests, tools,
migrations and virtual environment are left out by [tool.mypy] ``exclude``. Running from the
temporary directory keeps mypy's paths relative, the same on every run, so its cache (in the
checkout's .mypy_cache) stays valid; they are printed from the checkout's root.

Run from the activated virtual environment: ``python tools/typecheck.py [mypy options]``
(CI runs it, .ci/run). The exit status is mypy's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "pinzhi"


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="pinzhi-mypy-") as search_path:
        (Path(search_path) / PACKAGE).symlink_to(ROOT, target_is_directory=True)
        config = ["--config-file", str(ROOT / "pyproject.toml")]
        cache = ["--cache-dir", str(ROOT / ".mypy_cache")]
        command = [sys.executable, "-m", "mypy", *config, *cache, *argv, "-p", PACKAGE]
        env = {**os.environ, "MYPYPATH": "."}
        prefix = f"{PACKAGE}/"
        with subprocess.Popen(
            command, cwd=search_path, env=env, stdout=subprocess.PIPE, text=True
        ) as mypy:
            assert mypy.stdout is not None
            for line in mypy.stdout:
                sys.stdout.write(line.removeprefix(prefix))
        return mypy.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
