"""Generate the course assignments for students and grade submissions, with otter-grader.

The source of each assignment is one notebook with its solutions and tests,
``book/assignments/source/<lang>/<slug>.ipynb`` (otter-assign format). Everything students and
instructors use is generated from it, never edited by hand:

    python scripts/assignments.py generate                 # every assignment, both languages
    python scripts/assignments.py generate --only 01-kl-elbo --lang pt
    python scripts/assignments.py grade SUBMISSIONS/       # table of scores, locally, no Docker

``generate`` writes, for each language and assignment,

    _build/assignments/<lang>/<slug>/student/<slug>.ipynb      hand this out (solutions removed,
                                                              hidden tests stripped, public
                                                              checks embedded: works on Colab)
    _build/assignments/<lang>/<slug>/autograder/<slug>.ipynb   the solutions with every check embedded
                                                              (no outputs: run it)
    _build/assignments/<lang>/<slug>/autograder/<slug>-autograder.zip   all tests, for grading

``grade`` runs every ``*.ipynb`` of a folder through ``otter run`` (otter's non-containerized
grader, in this Python environment) against the autograder of its assignment, and writes
``scores.csv`` (one row per submission, one column per question) and one feedback file per
submission. The public and hidden checks are the same in both languages, so either language's
autograder grades either language's submissions.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import io
import json
import multiprocessing
import os
import pathlib
import shutil
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE = ROOT / "book" / "assignments" / "source"
DEFAULT_OUT = ROOT / "_build" / "assignments"
LANGS = ("pt", "en")

EMBED_MARKER = "# The checks used by grader.check"


# -- finding things ------------------------------------------------------------------------
def slugs() -> list[str]:
    """Slugs of the assignments, from the Portuguese sources (the source language)."""
    return sorted(p.stem for p in (SOURCE / "pt").glob("*.ipynb"))


def source_path(slug: str, lang: str) -> pathlib.Path:
    """The source notebook (with solutions) of ``slug`` in ``lang``."""
    path = SOURCE / lang / f"{slug}.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"slug: no assignment {slug!r} in {lang!r}; known: {', '.join(slugs())}")
    return path


def autograder_path(slug: str, lang: str = "pt", out: pathlib.Path = DEFAULT_OUT) -> pathlib.Path:
    """Where ``generate`` puts the autograder zip of ``slug``."""
    return out / lang / slug / "autograder" / f"{slug}-autograder.zip"


def student_path(slug: str, lang: str, out: pathlib.Path = DEFAULT_OUT) -> pathlib.Path:
    """Where ``generate`` puts the student notebook of ``slug``."""
    return out / lang / slug / "student" / f"{slug}.ipynb"


# -- generate ------------------------------------------------------------------------------
def checks_dir(slug: str) -> str:
    """Folder, relative to the notebook, where the student notebook writes its public checks.

    It is not otter's ``tests/``: when a submission is graded, ``tests/`` holds the hidden tests
    too, and the notebook must not overwrite them. The source notebook creates its grader with
    ``otter.Notebook(tests_dir="checks/<slug>")``.
    """
    return f"checks/{slug}"


def embed_tests(notebook: pathlib.Path, tests_dir: pathlib.Path, slug: str) -> None:
    """Write the test files of ``tests_dir`` into the notebook itself.

    Otter reads its tests from files beside the notebook; a notebook opened alone (Colab, a
    download) has none. The added cell, placed before the one that creates the grader, writes
    them to ``checks_dir(slug)``, so ``grader.check`` works wherever the notebook runs. For the
    student version ``tests_dir`` is the one otter assign wrote for students: public tests only.
    """
    target = checks_dir(slug)
    nb = nbformat.read(notebook, as_version=4)
    tests = {p.name: p.read_text(encoding="utf-8") for p in sorted(tests_dir.glob("*.py"))}
    source = "\n".join([
        f"{EMBED_MARKER} (written by scripts/assignments.py; do not edit)",
        "import pathlib",
        f"CHECKS = {json.dumps(tests, indent=1, ensure_ascii=False)}",
        f'pathlib.Path("{target}").mkdir(parents=True, exist_ok=True)',
        "for _name, _text in CHECKS.items():",
        f'    pathlib.Path("{target}", _name).write_text(_text, encoding="utf-8")',
    ])
    init = f'otter.Notebook(tests_dir="{target}")'
    at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and init in c.source), None)
    if at is None:
        raise ValueError(f"notebook: {notebook} has no cell creating the grader with {init}")
    cell = nbformat.v4.new_code_cell(source)
    cell.id = "embedded-checks"
    cell.metadata["tags"] = ["remove-input"]
    nb.cells.insert(at, cell)
    nbformat.write(nb, notebook)


def generate_one(slug: str, lang: str, out: pathlib.Path = DEFAULT_OUT, run_tests: bool = True) -> pathlib.Path:
    """Run otter assign on one source notebook; return the folder with ``student/`` and ``autograder/``."""
    from otter.assign import main as otter_assign

    result = out / lang / slug
    if result.exists():
        shutil.rmtree(result)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        otter_assign(str(source_path(slug, lang)), str(result), no_pdfs=True, no_run_tests=not run_tests)
    zips = sorted((result / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"otter assign: expected one autograder zip for {slug} ({lang}), found {len(zips)}\n{log.getvalue()}")
    zips[0].rename(autograder_path(slug, lang, out))
    student_tests = result / "student" / "tests"
    embed_tests(student_path(slug, lang, out), student_tests, slug)
    shutil.rmtree(student_tests)  # the notebook now carries them: hand out one file
    # the solutions too, with every test, so that an instructor can run them alone (no outputs)
    embed_tests(result / "autograder" / f"{slug}.ipynb", result / "autograder" / "tests", slug)
    return result


def generate(only: list[str] | None = None, langs=LANGS, out: pathlib.Path = DEFAULT_OUT, run_tests: bool = True) -> list[pathlib.Path]:
    """Generate the student and autograder versions of the chosen assignments."""
    done = []
    for slug in only or slugs():
        for lang in langs:
            done.append(generate_one(slug, lang, out, run_tests))
            print(f"{lang}/{slug}: {student_path(slug, lang, out).relative_to(out)}, "
                  f"{autograder_path(slug, lang, out).relative_to(out)}")
    return done


# -- grade ---------------------------------------------------------------------------------
def assignment_of(submission: pathlib.Path) -> str:
    """The assignment a submission answers, from the metadata otter assign writes into it."""
    nb = nbformat.read(submission, as_version=4)
    name = nb.metadata.get("otter", {}).get("assignment_name")
    if not name:
        raise ValueError(f"submission: {submission} carries no otter assignment name; pass --autograder")
    return name


def grade_one(submission: pathlib.Path, autograder: pathlib.Path):
    """Grade one notebook with ``otter run`` semantics (no container); return otter's GradingResults."""
    from otter.api import grade_submission

    with contextlib.redirect_stderr(io.StringIO()):
        return grade_submission(str(submission), str(autograder), quiet=True)


def score_row(submission: pathlib.Path, results) -> dict:
    """One row of the score table: the file, each question's score, total, possible, percent."""
    row = {"submission": submission.name}
    for name in sorted(results.results):
        row[name] = results.get_score(name)
    row.update(total=results.total, possible=results.possible, percent=round(100 * results.percent, 1))
    return row


@contextlib.contextmanager
def one_thread_per_kernel():
    """While several kernels grade at once, each gets one OpenMP thread; the setting is restored after.

    Restoring matters: kernels started later in the same process (nbval's, say) would otherwise
    inherit ``OMP_NUM_THREADS=1`` and compute with other rounding than the stored outputs.
    """
    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous


def grade(folder: pathlib.Path, autograder: pathlib.Path | None = None, out: pathlib.Path | None = None,
          build: pathlib.Path = DEFAULT_OUT, jobs: int = 1) -> list[dict]:
    """Grade every ``*.ipynb`` in ``folder``; write ``scores.csv`` and ``feedback/<name>.txt`` in ``out``.

    ``jobs`` submissions are graded at a time, each in its own process and kernel.
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"folder: expected a folder of submitted notebooks, got {folder}")
    out = pathlib.Path(out) if out else folder / "grades"
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    submissions = sorted(folder.glob("*.ipynb"))
    if not submissions:
        raise FileNotFoundError(f"folder: no .ipynb submissions in {folder}")
    zips = [pathlib.Path(autograder) if autograder else _find_autograder(assignment_of(s), build) for s in submissions]
    context = multiprocessing.get_context("spawn")
    threads = one_thread_per_kernel() if jobs > 1 else contextlib.nullcontext()
    with threads, concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context) as pool:
        graded = pool.map(grade_one, submissions, zips)
        rows = []
        for sub, results in zip(submissions, graded):
            (out / "feedback" / f"{sub.stem}.txt").write_text(results.summary(), encoding="utf-8")
            rows.append(score_row(sub, results))
            print(f"{sub.name}: {rows[-1]['total']:g} / {rows[-1]['possible']:g}", flush=True)
    columns = ["submission"] + sorted({k for r in rows for k in r} - {"submission", "total", "possible", "percent"})
    columns += ["total", "possible", "percent"]
    with open(out / "scores.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(format_table(rows, columns))
    print(f"scores: {out / 'scores.csv'}; feedback: {out / 'feedback'}")
    return rows


def format_table(rows: list[dict], columns: list[str]) -> str:
    """The score table as aligned text (blank where a submission lacks a question)."""
    cells = [columns] + [[f"{r[c]:g}" if isinstance(r.get(c), (int, float)) else str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells)


def _find_autograder(slug: str, build: pathlib.Path) -> pathlib.Path:
    for lang in LANGS:
        path = autograder_path(slug, lang, build)
        if path.exists():
            return path
    raise FileNotFoundError(f"autograder: none for {slug!r} under {build}; run `python scripts/assignments.py generate` first")


# -- command line --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write student notebooks and autograder zips")
    gen.add_argument("--only", nargs="+", choices=slugs(), help="assignment slugs (default: all)")
    gen.add_argument("--lang", nargs="+", choices=LANGS, default=list(LANGS))
    gen.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    gen.add_argument("--no-run-tests", action="store_true", help="skip otter's check of the solutions")
    grd = sub.add_parser("grade", help="grade a folder of submitted notebooks into scores.csv")
    grd.add_argument("folder", type=pathlib.Path)
    grd.add_argument("--autograder", type=pathlib.Path, help="autograder zip (default: from each notebook's metadata)")
    grd.add_argument("--out", type=pathlib.Path, help="where scores.csv and feedback/ go (default: FOLDER/grades)")
    grd.add_argument("--build", type=pathlib.Path, default=DEFAULT_OUT, help="where `generate` wrote its output")
    grd.add_argument("--jobs", type=int, default=1, help="submissions graded at a time (default 1)")
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.only, args.lang, args.out, run_tests=not args.no_run_tests)
    else:
        grade(args.folder, args.autograder, args.out, args.build, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
