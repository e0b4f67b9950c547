"""The load generator: wrk (Debian's ``wrk`` package) with a Lua script for POST bodies.

Each run is ``wrk -t1 -c<clients>`` with keep-alive connections; the Lua ``done`` hook prints
the summary and latency percentiles as one JSON line. wrk's own CPU time is read from the
rusage of the finished child, the server's and PostgreSQL's from /proc, so a report can
show whether the load generator competed with the server for the two cores.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pinzhi.bench.servers import Server, cpu_between, machine_busy_seconds, postgres_cpu

LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local bodies = {
%(bodies)s
}
if #bodies == 1 then
  wrk.body = bodies[1]
else
  local i = 0
  request = function()
    i = i + 1
    return wrk.format(nil, nil, nil, bodies[(i %% #bodies) + 1])
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect":%%d,"read":%%d,' ..
    '"write":%%d,"status":%%d,"timeout":%%d,"p50":%%d,"p90":%%d,"p95":%%d,"p99":%%d,' ..
    '"max":%%d,"mean":%%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass
class Run:
    server: str
    scenario: str
    clients: int
    round: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: int
    wrk_cpu_s: float
    server_cpu_s: float
    postgres_cpu_s: float
    other_cpu_s: float  # everything else on the machine meanwhile (other people's work)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is missing: apt-get update && apt-get install -y wrk")
    return path


def write_script(path: Path, bodies: list[bytes], token: str) -> Path:
    for body in bodies:
        if b"]==]" in body:
            raise ValueError("a body cannot hold the Lua long-string terminator")
    quoted = ",\n".join(f"[==[{b.decode()}]==]" for b in bodies)
    path.write_text(LUA % {"token": token, "bodies": quoted}, encoding="utf-8")
    return path


def run_wrk(
    server: Server,
    path: str,
    script: Path,
    *,
    scenario: str,
    clients: int,
    seconds: int,
    database: str,
    round_: int = 0,
) -> Run:
    command = [
        require_wrk(),
        "-t1",
        f"-c{clients}",
        f"-d{max(1, int(seconds))}s",
        "--timeout",
        "10s",
    ]
    command += ["-s", str(script), server.url + path]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before, pg_before = server.cpu_seconds(), postgres_cpu(database)
    busy_before = machine_busy_seconds()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.perf_counter() - started
    busy_after = machine_busy_seconds()
    server_after, pg_after = server.cpu_seconds(), postgres_cpu(database)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    s = json.loads(lines[-1].removeprefix("WRKJSON "))
    duration = s["duration_us"] / 1e6 or wall
    wrk_cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    server_cpu, pg_cpu = server_after - server_before, cpu_between(pg_before, pg_after)
    other = max(0.0, busy_after - busy_before - server_cpu - pg_cpu - wrk_cpu)
    errors = sum(s[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Run(
        server=server.name,
        scenario=scenario,
        clients=clients,
        round=round_,
        requests=s["requests"],
        seconds=round(duration, 3),
        rps=round(s["requests"] / duration, 2),
        p50_ms=s["p50"] / 1000,
        p90_ms=s["p90"] / 1000,
        p95_ms=s["p95"] / 1000,
        p99_ms=s["p99"] / 1000,
        max_ms=s["max"] / 1000,
        mean_ms=round(s["mean"] / 1000, 3),
        errors=errors,
        wrk_cpu_s=round(wrk_cpu, 3),
        server_cpu_s=round(server_cpu, 3),
        postgres_cpu_s=round(pg_cpu, 3),
        other_cpu_s=round(other, 3),
    )
