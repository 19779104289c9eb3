#!/usr/bin/env python3
"""Benchmarks of `integ`, printed as figures and ratios from one run.

1. Applying N providers (100 and 1000) to a local `integ server`:
   `integ provider apply -f fleet.yaml` vs. a shell loop of curl POSTs of the same bodies
   vs. a loop of `integ provider put` (measured on up to 100 providers; larger sizes are
   estimated from that rate unless --full).
2. Start-up: `integ --version`, `integ types list` and `integ provider put --dry-run`
   vs. `python -c "import typer"` (median of several runs).

Usage: python benchmarks/bench.py [--sizes 100,1000] [--full] [--repeat 7]
Needs curl on PATH for the curl loop (skipped with a note otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PY = sys.executable
#: The put loop runs at most this many providers unless --full; beyond, it is estimated
#: from the measured rate (one process per provider: 1000 would take many minutes).
PUT_SAMPLE = 100
INTEG = [PY, "-m", "conductor_integrations"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def integ_env(folder: Path) -> dict[str, str]:
    """The environment of every integ the benchmarks run: settings and data under
    ``folder``, no keyring, no colour."""
    return {
        **os.environ,
        "INTEG_CONFIG_DIR": str(folder / "config"),
        "INTEG_DATA_DIR": str(folder / "data"),
        "INTEG_NO_KEYRING": "1",
        "NO_COLOR": "1",
    }


def wait_until_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/integrations/provider?activeOnly=false", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


def count_providers(url: str, prefix: str) -> int:
    with urllib.request.urlopen(f"{url}/api/integrations/provider?activeOnly=false", timeout=30) as r:
        return sum(1 for p in json.load(r) if str(p.get("name", "")).startswith(prefix))


def body(i: int) -> dict[str, object]:
    return {
        "type": "openai",
        "category": "AI_MODEL",
        "description": f"benchmark provider {i}",
        "enabled": True,
        "configuration": {"api_key": f"sk-bench-{i:06d}", "endpoint": "https://api.openai.com/v1"},
    }


def write_fleet(folder: Path, prefix: str, n: int) -> tuple[Path, Path]:
    """A YAML list of n providers for apply, and one JSON body file per provider."""
    bodies = folder / f"{prefix}bodies"
    bodies.mkdir()
    docs = []
    for i in range(n):
        name = f"{prefix}{i:05d}"
        b = body(i)
        docs.append({"name": name, **b})
        (bodies / f"{name}.json").write_text(json.dumps(b))
    fleet = folder / f"{prefix}fleet.json"
    fleet.write_text(json.dumps(docs))
    return fleet, bodies


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd[:6])} ...\n{proc.stderr[-2000:]}")
    return elapsed


def curl_loop(url: str, bodies: Path) -> float:
    script = (
        'for f in "$1"/*.json; do n=$(basename "$f" .json); '
        'curl -sS -f -o /dev/null -X POST -H "Content-Type: application/json" '
        '--data-binary @"$f" "$2/api/integrations/provider/$n" || exit 1; done'
    )
    return timed(["bash", "-c", script, "bash", str(bodies), url])


def put_loop(url: str, bodies: Path, env: dict[str, str], limit: int) -> float:
    files = sorted(bodies.glob("*.json"))[:limit]
    start = time.perf_counter()
    for f in files:
        proc = subprocess.run(
            [*INTEG, "provider", "put", f.stem, "-f", str(f), "--server", url], env=env, capture_output=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"integ provider put failed: {proc.stderr.decode()[-2000:]}")
    return time.perf_counter() - start


def median_time(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    return statistics.median(timed(cmd, env) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000", help="fleet sizes (default 100,1000)")
    parser.add_argument("--full", action="store_true", help="run the integ put loop at every size")
    parser.add_argument("--repeat", type=int, default=7, help="runs per start-up figure (median)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    has_curl = shutil.which("curl") is not None

    with tempfile.TemporaryDirectory(prefix="integ-bench-") as tmp:
        folder = Path(tmp)
        env = integ_env(folder)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*INTEG, "server", "--port", str(port), "--data", str(folder / "bench.db")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(url)
            print(f"integ benchmarks (python {sys.version.split()[0]}, {os.cpu_count()} cores)\n")
            print(
                f"{'providers':>9}  {'integ apply':>12}  {'curl loop':>12}  {'integ put loop':>16}  "
                f"{'curl/apply':>10}  {'put/apply':>10}"
            )
            put_rate: float | None = None
            for n in sizes:
                fleet, _ = write_fleet(folder, f"a{n}-", n)
                t_apply = timed([*INTEG, "provider", "apply", "-f", str(fleet), "--server", url], env)
                present = count_providers(url, f"a{n}-")
                if present != n:
                    raise SystemExit(f"apply left {present} of {n} providers")
                _, curl_bodies = write_fleet(folder, f"c{n}-", n)
                t_curl = curl_loop(url, curl_bodies) if has_curl else float("nan")
                _, put_bodies = write_fleet(folder, f"p{n}-", n)
                sample = n if args.full else min(n, PUT_SAMPLE)
                if put_rate is None or sample == n:
                    t_sample = put_loop(url, put_bodies, env, sample)
                    put_rate = t_sample / sample
                t_put = put_rate * n
                put_note = "" if sample == n else " (est.)"
                print(
                    f"{n:>9}  {t_apply:>11.2f}s  {t_curl:>11.2f}s  {t_put:>15.2f}s{put_note:6}"
                    f"  {t_curl / t_apply:>9.1f}x  {t_put / t_apply:>9.1f}x"
                )
                print(f"{'':>9}  all {present} providers present after apply")
            print()
            dry = [
                *INTEG,
                "provider",
                "put",
                "x",
                "-t",
                "openai",
                "-c",
                "api_key=${env:BENCH_KEY}",
                "--dry-run",
            ]
            env["BENCH_KEY"] = "sk-bench"
            base = median_time([PY, "-c", "import typer"], env, args.repeat)
            print(f"start-up (median of {args.repeat}):")
            label = 'python -c "import typer"'
            print(f"  {label:<34} {base * 1000:7.0f} ms   1.0x")
            for label, cmd in (
                ("integ --version", [*INTEG, "--version"]),
                ("integ types list", [*INTEG, "types", "list"]),
                ("integ provider put --dry-run", dry),
            ):
                t = median_time(cmd, env, args.repeat)
                print(f"  {label:<34} {t * 1000:7.0f} ms {t / base:6.1f}x")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
