"""Memory of the Procfile web command, quickly: VmRSS, PSS and USS of each worker, and the PSS of
the whole server (master and workers, the budget's figure), at rest and after a short load (what
bench/run.py's `server_memory_mb` reads), without the full run.

    python bench/worker_memory.py [--project DIR] [--requests 2000] [--env NAME=VALUE ...]

Bakes the default project (or reuses DIR), installs requirements.txt only (as Railway does),
starts `python server.py` with production variables on a new PostgreSQL database on
127.0.0.1:5432, sends authenticated GETs to /api/auth/me/ and prints each worker's figures.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402

from baked_venvs import VenvCache  # noqa: E402
from railway import RAILWAY_DOMAIN, deploy_copy  # noqa: E402
from services import create_database, drop_database  # noqa: E402


def figures(master):
    """Each worker's memory (bench/run.py's process_memory_mb), with its pid."""
    return [{"pid": pid, **bench.process_memory_mb(pid)} for pid in bench.server_pids(master)[1:]]


def mappings(pid):
    """{mapped file (or [heap], [anon]...): resident MB} of one process."""
    sizes, name = {}, None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            parts = line.split()
            name = parts[5] if len(parts) > 5 else "[anon]"
        elif line.startswith("Rss:"):
            sizes[name] = sizes.get(name, 0) + int(line.split()[1]) / 1024
    return sizes


def show(label, workers, master):
    for w in workers:
        print(f"{label:>6} worker {w['pid']}: VmRSS {w['rss']:.1f} (anon {w['anon']:.1f}, "
              f"file {w['file']:.1f})  PSS {w['pss']:.1f}  USS {w['uss']:.1f} MB")
    print(f"{label:>6} mean: VmRSS {statistics.mean(w['rss'] for w in workers):.1f}  "
          f"PSS {statistics.mean(w['pss'] for w in workers):.1f}  "
          f"USS {statistics.mean(w['uss'] for w in workers):.1f} MB; whole server PSS "
          f"{bench.server_memory_mb(master)['total_pss']:.1f} MB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", help="a baked project to reuse (default: bake one)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra variable for the server (repeatable), to compare a knob")
    parser.add_argument("--mappings", type=int, default=0, metavar="N",
                        help="also print one worker's N largest mappings, at rest and loaded")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    production_env = bench.production_env
    bench.production_env = lambda **variables: production_env(**{**variables, **extra})
    workdir = Path(tempfile.mkdtemp(prefix="worker-memory-"))
    project = Path(args.project) if args.project else bench.bake(workdir / "ours")
    venv = bench.production_venv(project, VenvCache(os.environ.get("TEMPLATE_VENV_DIR") or workdir / "venvs"))
    deployed = deploy_copy(project, workdir / "deployed")
    url, name = create_database(venv)
    try:
        server, _ = bench.start_ours(deployed, venv, workdir, url)
        try:
            token = bench.token_for(deployed, {**server.env, "DJANGO_SETTINGS_MODULE": "config.settings"})
            workers = figures(server.process.pid)
            show("rest", workers, server.process.pid)
            at_rest = mappings(workers[0]["pid"])
            headers = {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https", "Authorization": f"Token {token}"}
            statuses = [server.http.get("/api/auth/me/", headers)[0] for _ in range(args.requests)]
            print("statuses:", {s: statuses.count(s) for s in set(statuses)})
            show("loaded", figures(server.process.pid), server.process.pid)
            if args.mappings:
                loaded = mappings(workers[0]["pid"])
                print(f"worker {workers[0]['pid']}'s resident MB by mapping, at rest -> loaded:")
                for mapped in sorted(loaded, key=lambda n: -loaded[n])[:args.mappings]:
                    print(f"  {at_rest.get(mapped, 0):6.2f} -> {loaded[mapped]:6.2f}  {mapped}")
        finally:
            server.stop()
    finally:
        drop_database(venv, name)


if __name__ == "__main__":
    main()
