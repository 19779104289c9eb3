#!/usr/bin/env python3
"""Fleet benchmarks of `integ`: paired runs, each on a fresh `integ server`, printed as
medians with their spread (min-max) and ratios.

1. Apply of N providers (default 1,000 and 5,000) by
   - `integ provider apply -f fleet.json`,
   - the official Python SDK (conductor-python, `OrkesIntegrationClient.save_integration`)
     saving them one after the other in one process,
   - a sequential shell loop of curl POSTs,
   - curl with 16 in parallel (`xargs -P16`);
   every provider is checked present afterwards. One round runs each contender once,
   in turn, each on its own fresh server; the median is over the rounds.
2. Re-apply (nothing changed) and diff of N providers (default 1,000, 5,000, 10,000),
   with the time per provider.
3. Peak memory (max RSS) of `integ provider apply` of the largest re-apply size, and
   `integ provider list -o json` of that many providers against curl fetching the list.

Usage: python benchmarks/fleet.py [--apply 1000,5000] [--again 1000,5000,10000] [--rounds 3]
       [--no-curl]
Needs curl and xargs on PATH for the curl rows, and `pip install -e '.[test]'` for the SDK
row (each is skipped with a note when missing). integ and the SDK are byte-compiled first
(as a wheel install leaves them), and each apply runs with a settings and data folder of
its own, as on a fresh machine. Timings depend on the machine and on
what else runs on it; run on an idle machine for figures to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import INTEG, PY, body, count_providers, free_port, integ_env, timed, wait_until_up

SDK_SCRIPT = """
import json, sys, warnings
warnings.simplefilter("ignore")
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.integration_update import IntegrationUpdate
from conductor.client.orkes.orkes_integration_client import OrkesIntegrationClient
sdk = OrkesIntegrationClient(Configuration(server_api_url=sys.argv[1] + "/api"))
for doc in json.load(open(sys.argv[2])):
    name = doc.pop("name")
    sdk.save_integration(name, IntegrationUpdate(**doc))
"""

URL = "{url}"
CURL_ONE = (
    'curl -sS -f -o /dev/null -X POST -H "Content-Type: application/json" '
    '--data-binary @"$1/$2.json" "$0/api/integrations/provider/$2"'
)


def write_fleet(folder: Path, n: int) -> tuple[Path, Path, Path]:
    """The fleet as one JSON list (for apply and the SDK), one body file per provider and
    a file of names (for curl)."""
    folder.mkdir(parents=True, exist_ok=True)
    bodies = folder / "bodies"
    bodies.mkdir(exist_ok=True)
    docs, names = [], []
    for i in range(n):
        name = f"f{i:05d}"
        b = body(i)
        docs.append({"name": name, **b})
        names.append(name)
        (bodies / f"{name}.json").write_text(json.dumps(b))
    fleet = folder / "fleet.json"
    fleet.write_text(json.dumps(docs))
    listing = folder / "names.txt"
    listing.write_text("\n".join(names) + "\n")
    return fleet, bodies, listing


class Server:
    """A fresh `integ server` on its own data file."""

    def __init__(self, folder: Path, env: dict[str, str], tag: str):
        self.url = f"http://127.0.0.1:{free_port()}"
        data = folder / f"{tag}-{time.monotonic_ns()}.db"
        port = self.url.rsplit(":", 1)[1]
        self.proc = subprocess.Popen(
            [*INTEG, "server", "--port", port, "--data", str(data)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(self.url)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def compile_packages() -> None:
    """Byte-compile integ and the SDK, as an install from a wheel leaves them: with
    ``PYTHONDONTWRITEBYTECODE`` set nothing else writes the ``.pyc`` files, and every run of
    either would compile its modules first."""
    import importlib.util

    for name in ("conductor_integrations", "conductor"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            for where in spec.submodule_search_locations:
                subprocess.run([PY, "-m", "compileall", "-q", where], stdout=subprocess.DEVNULL, check=False)


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f}s ({min(times):.2f}-{max(times):.2f})"


def run_apply(args: argparse.Namespace, folder: Path, env: dict[str, str]) -> None:
    has_curl = not args.no_curl and shutil.which("curl") is not None and shutil.which("xargs") is not None
    has_sdk = subprocess.run([PY, "-c", "import conductor.client"], capture_output=True).returncode == 0
    for n in args.apply:
        fleet, bodies, listing = write_fleet(folder / f"apply{n}", n)
        # Each command with URL where the server's address goes.
        contenders: dict[str, list[str]] = {
            "integ apply": [*INTEG, "provider", "apply", "-f", str(fleet), "--server", URL],
        }
        if has_sdk:
            contenders["python SDK"] = [PY, "-c", SDK_SCRIPT, URL, str(fleet)]
        if has_curl:
            loop = f'while read -r n; do bash -c \'{CURL_ONE}\' "$0" "$1" "$n" || exit 1; done < "$2"'
            parallel = f'xargs -P16 -n1 bash -c \'{CURL_ONE}\' "$0" "$1" < "$2"'
            contenders["curl loop"] = ["bash", "-c", loop, URL, str(bodies), str(listing)]
            contenders["curl x16"] = ["bash", "-c", parallel, URL, str(bodies), str(listing)]
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for r in range(args.rounds):
            for name, cmd in contenders.items():
                tag = name.replace(" ", "-")
                server = Server(folder, env, tag)
                # Each round as on a fresh machine too: its own settings and data folder
                # (the fingerprints of earlier rounds' servers are not read and rewritten).
                fresh = integ_env(folder / f"{tag}-{n}-{r}")
                try:
                    times[name].append(timed([server.url if c == URL else c for c in cmd], fresh))
                    present = count_providers(server.url, "f")
                    if present != n:
                        raise SystemExit(f"{name} left {present} of {n} providers")
                finally:
                    server.stop()
        base = statistics.median(times["integ apply"])
        print(f"apply of {n} providers (median of {args.rounds} rounds, min-max; all present after each):")
        for name, found in times.items():
            ratio = statistics.median(found) / base
            per = statistics.median(found) / n * 1000
            print(f"  {name:<12} {spread(found)}  {per:6.2f} ms/provider  {ratio:5.1f}x integ's time")
        if not has_sdk:
            print("  python SDK   skipped: conductor-python is not installed (pip install -e '.[test]')")
        if not has_curl:
            why = "--no-curl" if args.no_curl else "curl or xargs not on PATH"
            print(f"  curl         skipped: {why}")
        print()


def run_again(args: argparse.Namespace, folder: Path, env: dict[str, str]) -> None:
    print(f"re-apply (nothing changed) and diff (median of {args.rounds}, min-max):")
    first: dict[str, float] = {}
    for n in args.again:
        fleet, _, _ = write_fleet(folder / f"again{n}", n)
        server = Server(folder, env, f"again{n}")
        try:
            apply = [*INTEG, "provider", "apply", "-f", str(fleet), "--server", server.url]
            timed(apply, env)
            diff = [*INTEG, "provider", "diff", "-f", str(fleet), "--server", server.url]
            for label, cmd in (("re-apply", apply), ("diff", diff)):
                found = [timed(cmd, env) for _ in range(args.rounds)]
                per = statistics.median(found) / n * 1000
                first.setdefault(label, per)
                growth = per / first[label]
                print(f"  {label:<8} {n:>6}  {spread(found)}  {per:6.3f} ms/provider  {growth:4.2f}x")
            if n == max(args.again):
                print(f"  peak memory of apply of {n} (re-apply): {peak_rss_mb(apply, env):.0f} MB")
                list_against_curl(args, server.url, env, n)
        finally:
            server.stop()
    print()


def list_against_curl(args: argparse.Namespace, url: str, env: dict[str, str], n: int) -> None:
    """``integ provider list -o json`` of the ``n`` providers against curl fetching the same
    list, in turn, both printing to a pipe."""
    integ = [*INTEG, "provider", "list", "-o", "json", "--server", url]
    curl = ["curl", "-sS", "-f", f"{url}/api/integrations/provider?activeOnly=false"]
    if shutil.which("curl") is None:
        print("  provider list: skipped (curl not on PATH)")
        return
    times: dict[str, list[float]] = {"integ": [], "curl": []}
    for _ in range(args.rounds):
        times["integ"].append(timed(integ, env))
        times["curl"].append(timed(curl, env))
    ratio = statistics.median(times["integ"]) / statistics.median(times["curl"])
    both = f"integ {spread(times['integ'])}, curl {spread(times['curl'])}"
    print(f"  provider list of {n}: {both}, {ratio:.1f}x curl")


def peak_rss_mb(cmd: list[str], env: dict[str, str]) -> float:
    """Max RSS of ``cmd`` (this child alone)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd[:6])}")
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sizes = lambda text: [int(s) for s in text.split(",") if s]  # noqa: E731
    parser.add_argument("--apply", type=sizes, default=[1000, 5000], help="apply sizes (default 1000,5000)")
    parser.add_argument(
        "--again", type=sizes, default=[1000, 5000, 10000], help="re-apply/diff sizes (1000,5000,10000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds per figure (median)")
    parser.add_argument("--no-curl", action="store_true", help="leave out the curl rows (the slowest to run)")
    args = parser.parse_args()
    compile_packages()
    with tempfile.TemporaryDirectory(prefix="integ-fleet-") as tmp:
        folder = Path(tmp)
        env = integ_env(folder)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        cores = os.cpu_count()
        print(f"integ fleet benchmarks (python {sys.version.split()[0]}, {cores} cores, load {load:.1f})\n")
        if args.apply:
            run_apply(args, folder, env)
        if args.again:
            run_again(args, folder, env)


if __name__ == "__main__":
    main()
