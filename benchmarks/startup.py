#!/usr/bin/env python3
"""Start-up of `integ`, against `python -c "import typer"`, in paired runs.

Each command and the baseline run in turn (A B A B ...) after a warm-up; every pair gives a
ratio, so a machine whose speed drifts during the run still compares like with like. The
figures are the CPU time (user + system) and the wall time of each whole process, from the
kernel's accounting of the finished child (wait4); the medians are printed, with the spread
of the ratios (lowest and highest) to show the noise.

Usage: python benchmarks/startup.py [--runs 21] [--warmup 2] [--package-dir DIR]
The `integ` measured is the console script beside this Python (the one `pip install`
wrote), else `python -m conductor_integrations`; with --package-dir, the
`conductor_integrations` package in DIR (an earlier checkout, to compare), run with
`python -m`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
BASELINE = [PY, "-c", "import typer"]
#: (label, arguments, the highest ratio of CPU time to the baseline's that is the goal)
CASES = [
    ("integ --version", ["--version"], 0.5),
    ("integ --help", ["--help"], 1.3),
    ("integ types list", ["types", "list"], 1.3),
    ("integ validate FILE", ["validate", "{file}"], 1.3),
]
DOCUMENT = "name: bench\ntype: ollama\nconfiguration:\n  endpoint: http://localhost:11434\n"


def integ_command(package_dir: str | None) -> list[str]:
    if package_dir:
        return [PY, "-m", "conductor_integrations"]
    script = Path(PY).parent / "integ"
    return [PY, str(script)] if script.is_file() else [PY, "-m", "conductor_integrations"]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one whole process, output thrown away; run in the
    scratch folder, so that `python -m` does not find a package in the current one."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=env["XDG_DATA_HOME"]
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {proc.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def paired(a: list[str], b: list[str], runs: int, warmup: int, env: dict[str, str]) -> dict[str, list[float]]:
    for _ in range(warmup):
        run_once(a, env)
        run_once(b, env)
    out: dict[str, list[float]] = {k: [] for k in ("a_cpu", "a_wall", "b_cpu", "b_wall", "cpu", "wall")}
    for _ in range(runs):
        a_cpu, a_wall = run_once(a, env)
        b_cpu, b_wall = run_once(b, env)
        out["a_cpu"].append(a_cpu)
        out["a_wall"].append(a_wall)
        out["b_cpu"].append(b_cpu)
        out["b_wall"].append(b_wall)
        out["cpu"].append(a_cpu / b_cpu)
        out["wall"].append(a_wall / b_wall)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="counted pairs per command (default 21)")
    parser.add_argument("--warmup", type=int, default=2, help="pairs run first and not counted")
    parser.add_argument("--package-dir", help="measure the package in this folder instead")
    args = parser.parse_args(argv)
    integ = integ_command(args.package_dir)
    with tempfile.TemporaryDirectory() as tmp:
        document = Path(tmp) / "bench.yaml"
        document.write_text(DOCUMENT)
        env = {**os.environ, "XDG_CONFIG_HOME": tmp, "XDG_DATA_HOME": tmp, "INTEG_CONFIG_DIR": tmp}
        env.pop("INTEG_DEBUG", None)
        if args.package_dir:
            path = [str(Path(args.package_dir).resolve()), env.get("PYTHONPATH", "")]
            env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
        print(f"{args.runs} pairs per command after {args.warmup} warm-up pairs")
        print("baseline: python -c 'import typer'; medians; ratio = integ / baseline, pair by pair")
        print(f"{'command':22} {'cpu ms':>7} {'base ms':>7} {'cpu ratio (min-max)':>22} {'wall':>6}  goal")
        for label, words, goal in CASES:
            command = integ + [w.format(file=document) for w in words]
            r = paired(command, BASELINE, args.runs, args.warmup, env)
            ratio = statistics.median(r["cpu"])
            spread = f"{ratio:.2f} ({min(r['cpu']):.2f}-{max(r['cpu']):.2f})"
            verdict = "met" if ratio <= goal else "missed"
            print(
                f"{label:22} {statistics.median(r['a_cpu']) * 1000:7.1f} "
                f"{statistics.median(r['b_cpu']) * 1000:7.1f} {spread:>22} "
                f"{statistics.median(r['wall']):6.2f}  <= {goal} {verdict}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
