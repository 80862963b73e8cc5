"""Execute chapter notebooks in place, the way nbval re-runs them, so their stored outputs are true.

Stored outputs are the truth of the book (the site is built from them) and nbval compares a
fresh run against them. Trained models print numbers to 4 significant digits, and the last
digit can depend on which vector instructions the CPU has (AVX-512 kernels add in another
order than AVX2 ones). Both the execution here and nbval's run (tests/conftest.py) therefore
pin torch's kernels to one instruction set that every x86-64 machine of the last decade has,
so stored outputs written on one machine are reproduced on another:

    .venv/bin/python scripts/execute.py book/pt/elbo-extensions.ipynb book/en/elbo-extensions.ipynb
    .venv/bin/python scripts/execute.py --all          # every chapter of both languages

Notebooks run one at a time by default (their timings then mean something), each in its own
kernel with the notebook's folder as working directory; ``--jobs 2`` runs two at a time (every
chapter trains on one thread, so two fit a 2-core machine). One at a time, each line also gives
the kernel's CPU seconds: every chapter runs on one thread, so on an idle machine this is its
wall time, and unlike the wall time it barely grows when other work shares the machine (the
budget of issue 16: a notebook in at most 60 s on 2 cores).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: torch's ATen kernels, MKL and oneDNN all at the AVX2 level (no-ops where the CPU lacks AVX-512)
PINNED_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2"}
CELL_TIMEOUT_S = 600


def pin_environment(environ=os.environ) -> None:
    """Sets the pinned instruction set for this process and every kernel it starts."""
    environ.update(PINNED_ENV)


def execute_in_place(path: Path) -> float:
    """Runs every cell of ``path`` in a fresh kernel and writes the outputs back; returns seconds."""
    import nbclient
    import nbformat

    pin_environment()
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def chapter_paths() -> list[Path]:
    return sorted((ROOT / "book" / "pt").glob("*.ipynb")) + sorted((ROOT / "book" / "en").glob("*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every chapter notebook of both languages")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed at a time (default 1)")
    args = parser.parse_args(argv)
    paths = chapter_paths() if args.all else [p.resolve() for p in args.notebooks]
    if not paths:
        parser.error("name notebooks or pass --all")
    for path in paths:
        if not path.is_file():
            parser.error(f"no notebook at {path}")
    if args.jobs < 1:
        parser.error("--jobs: expected a positive integer")
    from concurrent.futures import ThreadPoolExecutor

    if args.jobs == 1:  # the kernel's CPU time: what the finished child processes used
        for path in paths:
            cpu = children_cpu_seconds()
            seconds = execute_in_place(path)
            print(f"{seconds:6.1f} s wall {children_cpu_seconds() - cpu:6.1f} s CPU  {path.relative_to(ROOT)}", flush=True)
        return 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each notebook runs in its own kernel process
        for path, seconds in zip(paths, pool.map(execute_in_place, paths)):
            print(f"{seconds:6.1f} s wall  {path.relative_to(ROOT)}", flush=True)
    return 0


def children_cpu_seconds() -> float:
    """CPU time (user + system) used so far by finished child processes (the notebooks' kernels)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
