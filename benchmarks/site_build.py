"""Time of a clean build of the site, both languages: ``python benchmarks/site_build.py``.

Runs ``scripts/build_book.py --clean --quiet`` ``--rounds`` times into a throwaway folder and
prints one JSON line per build (wall seconds, and CPU seconds of the build and every process it
started) and a last line with the medians. The target (issue 4): both languages from stored
outputs in at most 60 s. The test suite only reports the time of its own build.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from execute import children_cpu_seconds  # noqa: E402  (scripts/execute.py)


def timed_build(out: Path) -> dict:
    """One clean build of both languages into ``out``: wall and CPU seconds."""
    cmd = [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--out", str(out), "--clean", "--quiet"]
    wall, cpu = time.perf_counter(), children_cpu_seconds()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return {"wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(children_cpu_seconds() - cpu, 1)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="site-bench-") as tmp:
        for i in range(args.rounds):
            rows.append(timed_build(Path(tmp)) | {"round": i})
            print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"median_wall_s": statistics.median(r["wall_s"] for r in rows),
                      "median_cpu_s": statistics.median(r["cpu_s"] for r in rows), "rounds": args.rounds}))


if __name__ == "__main__":
    main()
