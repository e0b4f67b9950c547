"""Servers under test: one uvicorn process each, started and stopped by pid.

Every server (the floor and each GraphQL variant) runs as a single uvicorn worker with the
same uvicorn options, so that they differ only in the application.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pinzhi.bench.measure import status_kib

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    factory: str  # "module:callable"
    port: int
    path: str  # where the scenarios are posted ("/graphql"; the floor adds its own)
    env: dict[str, str]
    uvicorn_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, log_dir: Path, timeout: float = 60.0) -> None:
        if _port_busy(self.port):
            raise SystemExit(f"port {self.port} is taken; choose another with --port-base")
        self.log_path = log_dir / f"server-{self.name}.log"
        command = [sys.executable, "-m", "uvicorn", self.factory, "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        command += ["--no-access-log", "--log-level", "warning", *self.uvicorn_args]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited at start; see {self.log_path}")
            if _port_busy(self.port):
                return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name} did not listen within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def peak_memory_kib(self) -> int:
        return status_kib("VmHWM", self.pid)

    def rss_kib(self) -> int:
        return status_kib("VmRSS", self.pid)

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def post(self, path: str, body: bytes, token: str) -> httpx.Response:
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        return httpx.post(self.url + path, content=body, headers=headers, timeout=30)


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_cpu(database: str) -> dict[int, float]:
    """User + system CPU of each PostgreSQL backend serving ``database`` (their process
    title names it), so that other databases' work on the machine is not counted."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if f" {database} " in title:
                found[int(entry.name)] = process_cpu_seconds(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
            continue
    return found


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the backends used between two samples (a backend that exited meanwhile, e.g.
    an idle pool connection closed, is left out rather than counted negative)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS
