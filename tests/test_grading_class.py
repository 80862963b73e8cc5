"""A planted class, graded by the real command: no bad or hostile notebook stops, stalls or skews the others.

One assignment (01-kl-elbo, 13 points), one folder of submissions built from the generated
student notebook: honest work (full, blank, partial, slow, alternative methods, a docstring that
names a forbidden function), broken notebooks (corrupt JSON, no metadata, another assignment,
an infinite loop, a loop that swallows the interrupt, a crash, a folder deleter, a package
writer) and cheats (the five of the issue and three more). The module fixture grades the folder
once with ``scripts/assignments.py grade --jobs 2``; each test reads one outcome.
"""
from __future__ import annotations

import csv
import hashlib
import json
import pathlib
import re
import subprocess
import sys
import time

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import assignments as A  # noqa: E402

SLUG = "01-kl-elbo"
TIMEOUT = 40  # seconds per notebook in this test: a cell is stopped at 20 s
QUESTIONS = ("kl_diag", "kl_full", "mc_elbo", "elbo_gap", "best_diagonal_q")


def sandbox_available() -> bool:
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


SANDBOX = sandbox_available()
# notebooks that attack the machine: graded only inside the sandbox (--sandbox on), left out of the class without it
DANGEROUS = {"hostile_deleter", "hostile_package_writer", "cheat1_test_files", "variant_steal"}

# -- answers ---------------------------------------------------------------------------------
RIGHT = {
    "kl_diag": '''def kl_diag(mu_q, logvar_q, mu_p, logvar_p):
    """KL(q‖p) between diagonal Gaussians, summed over the last dimension, in nats."""
    ratio = torch.exp(logvar_q - logvar_p)
    mahalanobis = (mu_q - mu_p).pow(2) * torch.exp(-logvar_p)
    return 0.5 * (ratio + mahalanobis - 1.0 - (logvar_q - logvar_p)).sum(-1)''',
    "kl_full": '''def kl_full(mu_q, cov_q, mu_p, cov_p):
    """KL(q‖p) between full-covariance Gaussians, in nats."""
    d = mu_q.shape[-1]
    trace = torch.diagonal(torch.linalg.solve(cov_p, cov_q), dim1=-2, dim2=-1).sum(-1)
    diff = (mu_p - mu_q).unsqueeze(-1)
    quad = (diff * torch.linalg.solve(cov_p, diff)).sum((-1, -2))
    logdet = torch.linalg.slogdet(cov_p).logabsdet - torch.linalg.slogdet(cov_q).logabsdet
    return 0.5 * (trace + quad - d + logdet)''',
    "mc_elbo": '''def mc_elbo(model, x, q, n_samples):
    """Monte Carlo ELBO, one value per data point [batch], in nats."""
    z = q.sample((n_samples,))
    return (model.log_joint(x, z) - q.log_prob(z)).mean(0)''',
    "elbo_gap": '''def elbo_gap(model, x, q):
    """(log p(x) − ELBO(q), KL(q‖p(z|x))), each [batch], in nats."""
    gap = model.log_marginal(x) - model.elbo(x, q)
    post = model.posterior(x)
    m, S = gaussian_mean_cov(q)
    kl = full_gaussian_kl(m, S, post.mean, post.covariance_matrix)
    return gap, kl''',
    "best_diagonal_q": '''def best_diagonal_q(model, x):
    """Mean [batch, d_z] and variances [d_z] of the ELBO-optimal diagonal Gaussian q."""
    precision = torch.eye(model.z_dim, dtype=model.W.dtype) + model.W.T @ model.W / model.noise_std**2
    return model.posterior(x).mean, 1.0 / torch.diagonal(precision)''',
}

# right answers written another way, slowly (explicit loops, a pause)
ALTERNATIVE = {
    "kl_diag": '''def kl_diag(mu_q, logvar_q, mu_p, logvar_p):
    """Term by term, one coordinate at a time."""
    import math
    time.sleep(0.5)
    total = torch.zeros(mu_q.shape[:-1] if mu_q.dim() >= mu_p.dim() else mu_p.shape[:-1])
    for j in range(mu_q.shape[-1]):
        vq, vp = logvar_q[..., j].exp(), logvar_p[..., j].exp()
        total = total + 0.5 * (logvar_p[..., j] - logvar_q[..., j] + (vq + (mu_q[..., j] - mu_p[..., j]) ** 2) / vp - 1)
    return total''',
    "kl_full": '''def kl_full(mu_q, cov_q, mu_p, cov_p):
    """Through Cholesky factors."""
    L = torch.linalg.cholesky(cov_p)
    d = mu_q.shape[-1]
    A = torch.cholesky_solve(cov_q, L)
    diff = (mu_p - mu_q).unsqueeze(-1)
    quad = (diff.transpose(-1, -2) @ torch.cholesky_solve(diff, L)).squeeze(-1).squeeze(-1)
    logdet_p = 2 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)
    logdet_q = 2 * torch.log(torch.diagonal(torch.linalg.cholesky(cov_q), dim1=-2, dim2=-1)).sum(-1)
    return 0.5 * (torch.diagonal(A, dim1=-2, dim2=-1).sum(-1) + quad - d + logdet_p - logdet_q)''',
    "mc_elbo": '''def mc_elbo(model, x, q, n_samples):
    """In chunks of at most 1000 samples (rsample), summed, then averaged."""
    total, done = 0, 0
    while done < n_samples:
        k = min(1000, n_samples - done)
        z = q.rsample((k,))
        total = total + (model.log_joint(x, z) - q.log_prob(z)).sum(0)
        done += k
    return total / n_samples''',
    "elbo_gap": '''def elbo_gap(model, x, q):
    """The KL through my own kl_full."""
    post = model.posterior(x)
    m, S = gaussian_mean_cov(q)
    return model.log_marginal(x) - model.elbo(x, q), kl_full(m, S, post.mean, post.covariance_matrix)''',
    "best_diagonal_q": '''def best_diagonal_q(model, x):
    """1 / diagonal of the posterior precision, from the posterior covariance."""
    post = model.posterior(x)
    cov = post.covariance_matrix
    cov = cov[0] if cov.dim() == 3 else cov
    return post.mean, 1.0 / torch.diagonal(torch.linalg.inv(cov))''',
}

ZEROS = {  # all-zero answers of the right shapes (for the "Tensor.all is always True" cheat)
    "kl_diag": "def kl_diag(mu_q, logvar_q, mu_p, logvar_p):\n    return torch.zeros(torch.broadcast_shapes(mu_q.shape, mu_p.shape)[:-1])",
    "kl_full": "def kl_full(mu_q, cov_q, mu_p, cov_p):\n    return torch.zeros(torch.broadcast_shapes(mu_q.shape, mu_p.shape)[:-1], dtype=cov_q.dtype)",
    "mc_elbo": "def mc_elbo(model, x, q, n_samples):\n    return torch.zeros(x.shape[0], dtype=x.dtype)",
    "elbo_gap": "def elbo_gap(model, x, q):\n    return torch.zeros(x.shape[0], dtype=x.dtype), torch.zeros(x.shape[0], dtype=x.dtype)",
    "best_diagonal_q": "def best_diagonal_q(model, x):\n    return torch.zeros(x.shape[0], model.z_dim, dtype=x.dtype), torch.zeros(model.z_dim, dtype=x.dtype)",
}

# -- hostile cells ------------------------------------------------------------------------------
LOOP = "while True:  # an infinite loop before the answer\n    pass\n"
STALL = ("import time\nwhile True:  # swallows every interrupt: only a kill stops it\n    try:\n        time.sleep(0.1)\n"
         "    except BaseException:\n        pass\n")
CRASH = "import os\nos._exit(3)\n"
DELETER = '''import os, shutil, pathlib
here = pathlib.Path.cwd()
for target in [here, *here.parents, pathlib.Path.home(), pathlib.Path("/tmp"), pathlib.Path("{build}"),
               pathlib.Path("{folder}"), pathlib.Path("{root}")]:
    if str(target) != "/":
        shutil.rmtree(target, ignore_errors=True)
'''
PACKAGE_WRITER = '''import pathlib, sys, site
import vae_support, torch
evil = "\\n\\ndef gaussian_kl(*args, **kwargs):\\n    return 0.0\\n"
roots = {{pathlib.Path(vae_support.__file__).parent, pathlib.Path("{package}")}}
for entry in sys.path + site.getsitepackages():
    roots.add(pathlib.Path(entry) / "vae_support")
for root in roots:
    try:
        with open(root / "kl.py", "a") as f:
            f.write(evil)
    except OSError:
        pass
try:
    with open(pathlib.Path(torch.__file__).parent / "nn" / "functional.py", "a") as f:
        f.write("\\n# tampered\\n")
except OSError:
    pass
'''
TEST_WRITER = '''import os, pathlib
fake = "from otter.test_files import test_case\\nname = {{name!r}}\\npoints = {{points}}\\n@test_case()\\ndef test_ok():\\n    pass\\n"
points = dict(kl_diag=3, kl_full=3, mc_elbo=2, elbo_gap=3, best_diagonal_q=2)
places = {{pathlib.Path("tests"), pathlib.Path("checks/01-kl-elbo"), pathlib.Path("..") / "tests", pathlib.Path("/autograder/source/tests")}}
for top in ("/", "{build}", "{folder}", "{root}"):
    for dirpath, dirnames, files in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in ("proc", "sys", "dev", "usr", "lib", "site-packages")]
        if os.path.basename(dirpath) == "tests" or any(f.endswith("-autograder.zip") for f in files):
            places.add(pathlib.Path(dirpath))
for place in places:
    try:
        place.mkdir(parents=True, exist_ok=True)
        for name, p in points.items():
            (place / f"{{name}}.py").write_text(fake.format(name=name, points=p))
    except OSError:
        pass
'''
OTTER_NOOP = '''from otter.test_files import abstract_test, exception_test
exception_test.test_case.call_func = lambda self, env: None
exception_test.ExceptionTestFile.run = lambda self, env: None
abstract_test.TestFile.score = property(lambda self: self.possible)
abstract_test.TestFile.passed_all = property(lambda self: True)
'''
TENSOR_ALL = '''import torch
torch.Tensor.all = lambda self, *args, **kwargs: torch.tensor(True)
torch.allclose = lambda *args, **kwargs: True
'''
PICKLE_WRAP = '''import pickle, json
_dump, _dumps = pickle.dump, pickle.dumps
def _full(obj):
    for attr in ("results",):
        for tf in getattr(obj, attr, {}).values() if hasattr(obj, attr) else []:
            try:
                tf.update_score(tf.possible)
            except Exception:
                pass
    return obj
pickle.dump = lambda obj, *a, **k: _dump(_full(obj), *a, **k)
pickle.dumps = lambda obj, *a, **k: _dumps(_full(obj), *a, **k)
json.dump = lambda obj, fp, *a, **k: fp.write('{"total": 13, "possible": 13}')
'''
ALIAS = {
    "kl_diag": '''from vae_support.kl import gaussian_kl as g
def kl_diag(mu_q, logvar_q, mu_p, logvar_p):
    """Mine."""
    return g(mu_q, logvar_q, mu_p, logvar_p)''',
    "kl_full": '''import vae_support.kl as K
def kl_full(mu_q, cov_q, mu_p, cov_p):
    """Mine too."""
    f = getattr(K, "full_gaussian_kl")
    return f(mu_q, cov_q, mu_p, cov_p)''',
}
PATCH_IN_CALL = {  # variant 1: patches at call time, inside the answers, then returns zeros
    "kl_diag": '''def kl_diag(mu_q, logvar_q, mu_p, logvar_p):
    import torch
    torch.Tensor.all = lambda self, *a, **k: torch.tensor(True)
    torch.allclose = lambda *a, **k: True
    torch.isclose = lambda a, b, *args, **k: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
    return torch.zeros(torch.broadcast_shapes(mu_q.shape, mu_p.shape)[:-1])''',
    "kl_full": '''def kl_full(mu_q, cov_q, mu_p, cov_p):
    import sys
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("otter"):
            for name in dir(module):
                obj = getattr(module, name)
                if isinstance(obj, type) and hasattr(obj, "run"):
                    obj.run = lambda self, *a, **k: None
    return torch.zeros(torch.broadcast_shapes(mu_q.shape, mu_p.shape)[:-1])''',
}
STEAL = '''import os, glob, zipfile, json, re
found = []
for pattern in ("{build}/**/*.ipynb", "{build}/**/*.zip", "{folder}/*.ipynb", "{root}/book/assignments/source/*/*.ipynb",
                "{root}/_build/assignments/*/*/autograder/*", "/tmp/**/*.ipynb", "/tmp/*/*/*.ipynb", "/submission/../*/*.ipynb"):
    found += glob.glob(pattern, recursive=True)
for path in found:
    try:
        if path.endswith(".ipynb"):
            cells = json.load(open(path))["cells"]
            for cell in cells:
                text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                if cell["cell_type"] == "code" and re.match(r"def (kl_diag|kl_full|mc_elbo|elbo_gap|best_diagonal_q)\\(", text) \\
                        and "..." not in text.split('"""')[-1]:
                    exec(text, globals())
    except Exception:
        pass
'''


# -- building the class --------------------------------------------------------------------------
def student_notebook(out: pathlib.Path, lang: str) -> nbformat.NotebookNode:
    return nbformat.read(A.student_path(SLUG, lang, out), as_version=4)


def answer_cell(nb, question: str):
    cells = [c for c in nb.cells if c.cell_type == "code" and re.match(rf"def {question}\(", c.source)]
    assert len(cells) == 1, question
    return cells[0]


def build(out: pathlib.Path, lang: str = "en", answers: dict | None = None, before: str = "", after_setup: str = "",
          prefix: dict | None = None) -> nbformat.NotebookNode:
    """A student notebook with ``answers`` filled in, code before a question's cell, or after the set-up cell."""
    nb = student_notebook(out, lang)
    for question, code in (answers or {}).items():
        answer_cell(nb, question).source = code
    for question, code in (prefix or {}).items():
        cell = answer_cell(nb, question)
        cell.source = code + "\n" + cell.source
    if after_setup:
        at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "otter.Notebook(" in c.source)
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(after_setup))
    return nb


CASES = {
    # name: (expected status, expected total, description)
    "honest_full_en": ("graded", 13, "the solutions, English"),
    "honest_full_pt": ("graded", 13, "the solutions, Portuguese"),
    "honest_blank": ("graded", 0, "the student notebook as handed out"),
    "honest_partial": ("graded", 5, "kl_diag and mc_elbo answered, the rest blank"),
    "honest_slow_alternative": ("graded", 13, "other right methods (loops, Cholesky, rsample, inverse), with pauses"),
    "honest_docstring": ("graded", 13, "a docstring and a comment naming gaussian_kl"),
    "broken_corrupt_json": ("invalid", 0, "truncated JSON"),
    "broken_no_metadata": ("invalid", 0, "the solutions without otter metadata"),
    "broken_other_assignment": ("wrong-assignment", 0, "a notebook of assignment 02"),
    "broken_infinite_loop": ("timeout", 10, "an infinite loop before kl_full: the other answers count"),
    "broken_stall": ("timeout", 0, "a loop that swallows the interrupt: killed at the time limit"),
    "broken_crash": ("error", 0, "os._exit in a cell"),
    "hostile_deleter": ("graded", 13, "right answers, then deletes every folder it can"),
    "hostile_package_writer": ("graded", 13, "right answers, then appends to vae_support and torch"),
    "cheat1_test_files": ("graded", 0, "blank answers, overwrites the hidden test files"),
    "cheat2_otter_noop": ("graded", 0, "blank answers, replaces otter's test methods by no-ops"),
    "cheat3_tensor_all": ("graded", 0, "Tensor.all always True, all-zero answers of the right shape"),
    "cheat4_pickle": ("graded", 0, "blank answers, pickle.dump wrapped to write full marks"),
    "cheat5_alias": ("graded", 11.5, "gaussian_kl under an alias, full_gaussian_kl through getattr"),
    "variant_patch_in_call": ("graded", 7, "two answers patch torch and otter when called, and return zeros"),
    "variant_steal": ("graded", 0, "looks for the solutions and the hidden tests on disk"),
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("build")
    A.generate(only=[SLUG], out=build_dir, run_tests=False)
    folder = tmp_path_factory.mktemp("class")
    fmt = dict(build=build_dir, folder=folder, root=ROOT, package=ROOT / "vae_support")
    nbs = {
        "honest_full_en": build(build_dir, "en", RIGHT),
        "honest_full_pt": build(build_dir, "pt", RIGHT),
        "honest_blank": build(build_dir, "pt"),
        "honest_partial": build(build_dir, "en", {q: RIGHT[q] for q in ("kl_diag", "mc_elbo")}),
        "honest_slow_alternative": build(build_dir, "pt", ALTERNATIVE, after_setup="import time\ntime.sleep(3)"),
        "honest_docstring": build(build_dir, "en", {**RIGHT, "kl_diag": RIGHT["kl_diag"].replace(
            '"""KL(q‖p)', '"""Written by hand, not with vae_support.kl.gaussian_kl (or kl_divergence): KL(q‖p)').replace(
            "    ratio =", "    # gaussian_kl(mu_q, logvar_q, mu_p, logvar_p) would do it; the question forbids it\n    ratio =")}),
        "broken_no_metadata": build(build_dir, "en", RIGHT),
        "broken_other_assignment": build(build_dir, "en", RIGHT),
        "broken_infinite_loop": build(build_dir, "en", RIGHT, prefix={"kl_full": LOOP}),
        "broken_stall": build(build_dir, "en", RIGHT, after_setup=STALL),
        "broken_crash": build(build_dir, "en", RIGHT, prefix={"kl_full": CRASH}),
        "hostile_deleter": build(build_dir, "en", RIGHT, after_setup=DELETER.format(**fmt)),
        "hostile_package_writer": build(build_dir, "pt", RIGHT, after_setup=PACKAGE_WRITER.format(**fmt)),
        "cheat1_test_files": build(build_dir, "en", after_setup=TEST_WRITER.format(**fmt)),
        "cheat2_otter_noop": build(build_dir, "en", after_setup=OTTER_NOOP),
        "cheat3_tensor_all": build(build_dir, "en", ZEROS, after_setup=TENSOR_ALL),
        "cheat4_pickle": build(build_dir, "en", after_setup=PICKLE_WRAP),
        "cheat5_alias": build(build_dir, "en", {**RIGHT, **ALIAS}),
        "variant_patch_in_call": build(build_dir, "en", {**RIGHT, **PATCH_IN_CALL}),
        "variant_steal": build(build_dir, "en", after_setup=STEAL.format(**fmt)),
    }
    if not SANDBOX:  # never run a deleter or a package writer outside the sandbox: it would reach this repository
        for name in DANGEROUS:
            del nbs[name]
    del nbs["broken_no_metadata"].metadata["otter"]
    nbs["broken_other_assignment"].metadata["otter"]["assignment_name"] = "02-gradients-iwae"
    for name, nb in nbs.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    text = (folder / "honest_full_en.ipynb").read_text(encoding="utf-8")
    (folder / "broken_corrupt_json.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")
    assert sorted(p.stem for p in folder.glob("*.ipynb")) == sorted(set(CASES) - (set() if SANDBOX else DANGEROUS))

    package_before = tree_hash(ROOT / "vae_support")
    zip_path = A.autograder_path(SLUG, "en", build_dir)
    zip_before = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    out = folder / "grades"
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "assignments.py"), "grade", str(folder), "--build", str(build_dir),
                           "--jobs", "2", "--timeout", str(TIMEOUT), "--no-progress", "--sandbox", "on" if SANDBOX else "off"],
                          capture_output=True, text=True, cwd=ROOT, timeout=900,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.monotonic() - start
    print(done.stdout[-4000:], done.stderr[-3000:])
    print(f"planted class: {len(CASES)} notebooks graded in {elapsed:.0f} s with --jobs 2")
    with open(out / SLUG / "scores.csv", encoding="utf-8") as f:
        rows = {pathlib.Path(r["submission"]).stem: r for r in csv.DictReader(f)}
    return dict(rows=rows, out=out, done=done, folder=folder, build=build_dir, elapsed=elapsed,
                package_changed=tree_hash(ROOT / "vae_support") != package_before,
                zip_changed=hashlib.sha256(zip_path.read_bytes()).hexdigest() != zip_before)


def tree_hash(folder: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(folder.rglob("*.py")):
        digest.update(p.read_bytes())
    return digest.hexdigest()


# -- the outcomes ---------------------------------------------------------------------------------
def test_every_notebook_has_a_row_and_the_exit_status_says_not_all_were_graded(planted):
    expected = set(CASES) - (set() if SANDBOX else DANGEROUS)
    assert sorted(planted["rows"]) == sorted(expected), planted["done"].stderr[-2000:]
    assert planted["done"].returncode == 1, "some notebooks could not be graded: exit status 1"
    header = next(csv.reader(open(planted["out"] / SLUG / "scores.csv", encoding="utf-8")))
    assert header == ["submission", *sorted(QUESTIONS), "total", "possible", "percent", "status", "reason"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_planted_case_gets_a_fair_score(planted, case):
    status, total, what = CASES[case]
    if not SANDBOX and case in DANGEROUS:
        pytest.skip("needs the sandbox (user namespaces): never run outside it")
    row = planted["rows"][case]
    assert row["status"] == status, f"{case} ({what}): {row}"
    assert float(row["total"]) == pytest.approx(total), f"{case} ({what}): {row}"
    assert float(row["possible"]) == 13 or status in ("invalid", "wrong-assignment")
    assert (row["reason"] == "") == (status == "graded"), f"{case}: a reason exactly when not graded: {row}"


def test_partial_and_alias_scores_by_question(planted):
    rows = planted["rows"]
    assert {q: float(rows["honest_partial"][q]) for q in QUESTIONS} == dict(kl_diag=3, kl_full=0, mc_elbo=2, elbo_gap=0, best_diagonal_q=0)
    alias = {q: float(rows["cheat5_alias"][q]) for q in QUESTIONS}
    assert alias == dict(kl_diag=2.25, kl_full=2.25, mc_elbo=2, elbo_gap=3, best_diagonal_q=2), "only the own-code tests fail"
    loop = {q: float(rows["broken_infinite_loop"][q]) for q in QUESTIONS}
    assert loop == dict(kl_diag=3, kl_full=0, mc_elbo=2, elbo_gap=3, best_diagonal_q=2)
    assert "cell" in rows["broken_infinite_loop"]["reason"] and "stopped" in rows["broken_infinite_loop"]["reason"]
    assert "ran past" in rows["broken_stall"]["reason"]


def test_reasons_name_the_problem(planted):
    rows = planted["rows"]
    assert "not a readable notebook" in rows["broken_corrupt_json"]["reason"]
    assert "no otter metadata" in rows["broken_no_metadata"]["reason"]
    assert "02-gradients-iwae" in rows["broken_other_assignment"]["reason"]
    assert "ended" in rows["broken_crash"]["reason"]


def test_nothing_outside_the_submission_was_changed(planted):
    assert not planted["package_changed"], "the instructor's vae_support was modified"
    assert not planted["zip_changed"], "the autograder zip was modified"
    assert (planted["build"] / "en" / SLUG / "autograder" / f"{SLUG}-autograder.zip").exists()
    assert (planted["folder"] / "honest_full_en.ipynb").exists(), "the deleter reached the submissions folder"


def test_delegation_message_says_what_is_forbidden_and_why(planted):
    text = (planted["out"] / SLUG / "feedback" / "cheat5_alias.txt").read_text(encoding="utf-8")
    assert "[own code] kl_diag uses vae_support.kl.gaussian_kl as g" in text
    assert "which this question forbids" in text
    assert "getattr(K, 'full_gaussian_kl')" in text


def test_feedback_never_shows_hidden_expected_values(planted):
    for path in (planted["out"] / SLUG / "feedback").glob("*.txt"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if re.match(r"\s+[✔✘] (hidden|oculto) \d+:", line):
                following = lines[i + 1] if i + 1 < len(lines) else ""
                if following.startswith("      "):
                    assert following.strip().startswith("[own code]"), f"{path.name}: hidden message leaked: {following}"
        text = "\n".join(lines)
        for leak in ("[2, 3] batch", "lote [2, 3]", "test_kl_diag_hidden", "hidden_batch"):
            assert leak not in text, f"{path.name}: {leak}"
    blank = (planted["out"] / SLUG / "feedback" / "honest_blank.txt").read_text(encoding="utf-8")
    assert "questão ainda não respondida" in blank and "esperado KL ≈ 0.7819" in blank, "public messages help the student"


def test_summary_and_timing(planted):
    out = planted["done"].stdout
    assert re.search(rf"{len(CASES)} notebooks in \d+ s", out), out[-1500:]
    assert "sandbox on" in out or not SANDBOX
