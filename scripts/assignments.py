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

``grade`` grades every ``*.ipynb`` of a folder with ``course_grader`` (the course's grader, a
package of its own beside vae_support): each notebook runs in its own sandbox (a fresh folder,
its own copy of vae_support, no view of the instructor's files, a wall-clock limit and a memory
cap) and its tests run in a separate clean process that receives the answers as plain data. It
writes one CSV per assignment (``OUT/<slug>/scores.csv``: one row per submission, one column per
question, total, possible, percent, status, reason) and one feedback file per submission, safe to
hand back (public tests' messages; hidden tests: pass or fail and the points). The exit status is
0 only if every notebook was graded. The public and hidden checks are the same in both
languages, so either language's autograder grades either language's submissions.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import pathlib
import shutil
import sys
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import clean_install  # noqa: E402  (scripts/clean_install.py: the wheel, built from a copy of the tree)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # course_grader, the grader package, lives beside vae_support
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
    complete_autograder(slug, lang, out)
    student_tests = result / "student" / "tests"
    embed_tests(student_path(slug, lang, out), student_tests, slug)
    shutil.rmtree(student_tests)  # the notebook now carries them: hand out one file
    # the solutions too, with every test, so that an instructor can run them alone (no outputs)
    embed_tests(result / "autograder" / f"{slug}.ipynb", result / "autograder" / "tests", slug)
    return result


def build_wheel(out: pathlib.Path) -> pathlib.Path:
    """The vae_support wheel the autograder zips carry, built afresh from a copy of the tree
    (never a wheel left by an earlier run: the package may have changed since)."""
    wheels = out / "_wheel"
    shutil.rmtree(wheels, ignore_errors=True)
    return clean_install.build_wheel(wheels)


def complete_autograder(slug: str, lang: str, out: pathlib.Path = DEFAULT_OUT) -> None:
    """Add the set-up code, the delegation check, the vae_support wheel and a CPU-torch environment to the zip."""
    from course_grader import autograder as ag

    nb = nbformat.read(source_path(slug, lang), as_version=4)
    setup = []
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.strip().startswith("# BEGIN QUESTION"):
            break
        if cell.cell_type == "code":
            setup.append(cell.source)
    torch_pin = (ROOT / "requirements" / "torch.txt").read_text(encoding="utf-8").split()[0]
    ag.complete_zip(autograder_path(slug, lang, out), ag.setup_code(setup), build_wheel(out), torch_pin)


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
def assignment_of(submission: pathlib.Path) -> str | None:
    """The assignment a submission answers, from the metadata otter assign writes into it (None if unreadable)."""
    from course_grader.grade import read_submission

    return read_submission(pathlib.Path(submission))[1]


def grade(folder: pathlib.Path, autograder: pathlib.Path | None = None, out: pathlib.Path | None = None,
          build: pathlib.Path = DEFAULT_OUT, jobs: int = 1, timeout: float = 180.0, memory_mb: int = 4096,
          sandbox: str = "auto", progress: bool = True) -> int:
    """Grade every ``*.ipynb`` in ``folder``; write ``OUT/<slug>/scores.csv`` and ``OUT/<slug>/feedback/``.

    Returns the exit status: 0 if every notebook was graded, 1 otherwise (the CSVs are written either way).
    """
    from course_grader import autograder as ag
    from course_grader import grade as G

    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"folder: expected a folder of submitted notebooks, got {folder}")
    out = pathlib.Path(out) if out else folder / "grades"
    submissions = sorted(folder.glob("*.ipynb"))
    if not submissions:
        raise FileNotFoundError(f"folder: no .ipynb submissions in {folder}")
    # every autograder is read into memory now, before any student code runs
    if autograder:
        loaded = ag.load(pathlib.Path(autograder))
        autograders, default = {loaded.name: loaded}, loaded.name
    else:
        autograders, default = {}, None
        for slug in sorted({s for s in map(assignment_of, submissions) if s}):
            path = _find_autograder(slug, build)
            if path is not None:
                autograders[slug] = ag.load(path)
        if len(autograders) == 1:
            default = next(iter(autograders))  # notebooks without metadata are listed in that assignment's CSV
    options = G.Options(timeout=timeout, memory_mb=memory_mb, jobs=jobs, sandbox=sandbox)
    start = time.monotonic()
    results, note = G.grade_folder(submissions, autograders, options, default, progress=progress, assume=bool(autograder))
    elapsed = time.monotonic() - start
    by_slug: dict[str, list] = {}
    for r in results:
        by_slug.setdefault(r.assignment or "unidentified", []).append(r)
    for slug, group in sorted(by_slug.items()):
        questions = sorted(autograders[slug].tests) if slug in autograders else []
        G.write_csv(out / slug / "scores.csv", group, questions)
        feedback = out / slug / "feedback"
        feedback.mkdir(parents=True, exist_ok=True)
        for r in group:
            (feedback / f"{pathlib.Path(r.submission).stem}.txt").write_text(G.feedback(r), encoding="utf-8")
        table = G.rows(group, questions)
        print(f"\n{slug}: {out / slug / 'scores.csv'}")
        print(format_table(table, ["submission"] + questions + ["total", "possible", "status"]))
    counts = {s: sum(r.status == s for r in results) for s in G.STATUSES}
    print(f"\n{len(results)} notebooks in {elapsed:.0f} s ({elapsed / len(results):.1f} s each, {jobs} at a time; {note}): "
          + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    timed = [r.timings for r in results if r.timings]
    if timed:
        run, tests = (sum(t[k] for t in timed) / len(timed) for k in ("run", "tests"))
        print(f"per notebook, on average: {run:.1f} s to start its sandbox and run it, {tests:.1f} s for its tests")
    for r in results:
        if r.status != "graded":
            print(f"  {r.submission}: {r.status} — {r.reason}")
    return 0 if counts["graded"] == len(results) else 1


def format_table(rows: list[dict], columns: list[str]) -> str:
    """The score table as aligned text (blank where a submission lacks a question)."""
    cells = [columns] + [[f"{r[c]:g}" if isinstance(r.get(c), (int, float)) else str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells)


def _find_autograder(slug: str, build: pathlib.Path) -> pathlib.Path | None:
    for lang in LANGS:
        path = autograder_path(slug, lang, build)
        if path.exists():
            return path
    return None


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
    grd.add_argument("--timeout", type=float, default=180.0,
                     help="wall-clock seconds to run one notebook (default 180); a cell is stopped at half of it, "
                          "and the tests get half of it again")
    grd.add_argument("--memory", type=int, default=4096, help="memory cap of a notebook's process, in MiB (default 4096)")
    grd.add_argument("--sandbox", choices=("auto", "on", "off"), default="auto",
                     help="run each notebook in a sandbox (Linux user namespaces); auto: where the system allows")
    grd.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.only, args.lang, args.out, run_tests=not args.no_run_tests)
        return 0
    return grade(args.folder, args.autograder, args.out, args.build, args.jobs, args.timeout, args.memory,
                 args.sandbox, progress=not args.no_progress)


if __name__ == "__main__":
    sys.exit(main())
