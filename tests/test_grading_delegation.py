"""The delegation check reads what an answer refers to, not its text (course_grader.delegation).

Pure static analysis of code cells: no notebook runs here (fast).
"""
from __future__ import annotations

import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_grader.delegation import PREFIX, delegation_problem, find_delegation  # noqa: E402

FORBIDDEN = ["vae_support.kl.gaussian_kl", "vae_support.kl.full_gaussian_kl", "torch.distributions.kl_divergence"]
SETUP = "import torch\nfrom vae_support.kl import full_gaussian_kl\n"

CAUGHT = {
    "plain": "from vae_support.kl import gaussian_kl\ndef kl_diag(a, b, c, d):\n    return gaussian_kl(a, b, c, d)\n",
    "alias": "from vae_support.kl import gaussian_kl as g\ndef kl_diag(a, b, c, d):\n    return g(a, b, c, d)\n",
    "module_alias": "import vae_support.kl as K\ndef kl_diag(a, b, c, d):\n    return K.gaussian_kl(a, b, c, d)\n",
    "package_attribute": "import vae_support\ndef kl_diag(a, b, c, d):\n    return vae_support.kl.gaussian_kl(a, b, c, d)\n",
    "getattr": "import vae_support.kl as K\ndef kl_diag(a, b, c, d):\n    return getattr(K, 'gaussian_kl')(a, b, c, d)\n",
    "getattr_computed": "import vae_support.kl as K\ndef kl_diag(a, b, c, d):\n    return getattr(K, 'gauss' + 'ian_kl')(a, b, c, d)\n",
    "module_level_assignment": "import vae_support.kl as K\nh = [K.gaussian_kl][0]\ndef kl_diag(a, b, c, d):\n    return h(a, b, c, d)\n",
    "chained_alias": "from vae_support import kl\nf = kl.gaussian_kl\ng = f\ndef kl_diag(a, b, c, d):\n    return g(a, b, c, d)\n",
    "helper": "from vae_support import kl\ndef _helper(*args):\n    return kl.gaussian_kl(*args)\ndef kl_diag(a, b, c, d):\n    return _helper(a, b, c, d)\n",
    "default_argument": "from vae_support.kl import gaussian_kl\ndef kl_diag(a, b, c, d, f=gaussian_kl):\n    return f(a, b, c, d)\n",
    "local_import": "def kl_diag(a, b, c, d):\n    from vae_support.kl import gaussian_kl as g\n    return g(a, b, c, d)\n",
    "local_module_alias": "def kl_diag(a, b, c, d):\n    D = torch.distributions\n    return D.kl.kl_divergence(a, b)\n",
    "torch_kl_divergence": "from torch.distributions import kl_divergence, Normal\ndef kl_diag(a, b, c, d):\n    return kl_divergence(Normal(a, b), Normal(c, d)).sum(-1)\n",
    "star_import": "from vae_support.kl import *\ndef kl_diag(a, b, c, d):\n    return gaussian_kl(a, b, c, d)\n",
    "eval": "def kl_diag(a, b, c, d):\n    return eval('vae_support.kl.gaussian_kl')(a, b, c, d)\n",
    "dunder_import": "def kl_diag(a, b, c, d):\n    return __import__('vae_support.kl', fromlist=['x']).gaussian_kl(a, b, c, d)\n",
    "importlib": "import importlib\ndef kl_diag(a, b, c, d):\n    return importlib.import_module('vae_support.kl').gaussian_kl(a, b, c, d)\n",
    "globals": "def kl_diag(a, b, c, d):\n    return globals()['g'](a, b, c, d)\n",
    "sys_modules": "import sys\ndef kl_diag(a, b, c, d):\n    return sys.modules['vae_support.kl'].gaussian_kl(a, b, c, d)\n",
    "dict": "import vae_support.kl as K\ndef kl_diag(a, b, c, d):\n    return K.__dict__['gaussian_kl'](a, b, c, d)\n",
    "class_method": "from vae_support.kl import gaussian_kl\nclass H:\n    f = staticmethod(gaussian_kl)\ndef kl_diag(a, b, c, d):\n    return H.f(a, b, c, d)\n",
    "lambda_answer": "from vae_support.kl import gaussian_kl\nkl_diag = lambda a, b, c, d: gaussian_kl(a, b, c, d)\n",
    "answer_is_the_function": "from vae_support.kl import gaussian_kl\nkl_diag = gaussian_kl\n",
}

HONEST = {
    "docstring_and_comment": ('def kl_diag(mu_q, logvar_q, mu_p, logvar_p):\n'
                              '    """Unlike vae_support.kl.gaussian_kl, written out; see also kl_divergence."""\n'
                              '    # gaussian_kl(mu_q, logvar_q) would do it, but the question forbids it\n'
                              '    r = torch.exp(logvar_q - logvar_p)\n'
                              '    return 0.5 * (r + (mu_q - mu_p) ** 2 / logvar_p.exp() - 1 - (logvar_q - logvar_p)).sum(-1)\n'),
    "string_in_print": 'def kl_diag(a, b, c, d):\n    print("not gaussian_kl")\n    return (a - c).sum(-1)\n',
    "allowed_package_function": 'def kl_diag(a, b, c, d):\n    return torch.logsumexp(a, -1) + torch.linalg.slogdet(torch.eye(2)).logabsdet\n',
    "other_answer_of_the_notebook": ('def kl_full(a, b, c, d):\n    return torch.linalg.slogdet(b).logabsdet\n'
                                     'def kl_diag(a, b, c, d):\n    return kl_full(a, torch.diag_embed(b.exp()), c, torch.diag_embed(d.exp()))\n'),
    "local_name_shadows": 'def kl_diag(a, b, c, d):\n    gaussian_kl = (a - c) ** 2\n    return gaussian_kl.sum(-1)\n',
    "getattr_on_own_object": 'def kl_diag(a, b, c, d):\n    name = "sum"\n    return getattr(a - c, name)(-1)\n',
    "full_gaussian_kl_elsewhere": 'def elbo_gap(m, S):\n    return full_gaussian_kl(m, S, m, S)\ndef kl_diag(a, b, c, d):\n    return (a * b).sum(-1)\n',
}


@pytest.mark.parametrize("case", sorted(CAUGHT))
def test_delegation_is_caught(case):
    assert find_delegation([SETUP, CAUGHT[case]], "kl_diag", FORBIDDEN), case


@pytest.mark.parametrize("case", sorted(HONEST))
def test_honest_code_passes(case):
    assert find_delegation([SETUP, HONEST[case]], "kl_diag", FORBIDDEN) == [], case


class Carried:
    """What the verdict process passes to a test: the notebook's cells, not the student's function."""

    def __init__(self, cells, name):
        self.__course_grader_source__ = (cells, name)


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_message_names_what_is_forbidden_and_why(lang):
    message = delegation_problem(Carried([SETUP, CAUGHT["alias"]], "kl_diag"), FORBIDDEN, lang)
    assert message.startswith(PREFIX) and "vae_support.kl.gaussian_kl" in message and "as g" in message
    assert ("proíbe" if lang == "pt" else "forbids") in message
    assert ("próprio código" if lang == "pt" else "your own code") in message
    hidden = delegation_problem(Carried([SETUP, CAUGHT["eval"]], "kl_diag"), FORBIDDEN, lang)
    assert "eval" in hidden and ("esconde" if lang == "pt" else "hides") in hidden


def test_unanswered_and_missing():
    blank = 'def kl_diag(a, b, c, d):\n    """KL."""\n    ...\n'
    assert "question not answered yet" in delegation_problem(Carried([SETUP, blank], "kl_diag"), FORBIDDEN, "en")
    assert "questão ainda não respondida" in delegation_problem(None, FORBIDDEN, "pt")
    assert delegation_problem(Carried([SETUP, HONEST["docstring_and_comment"]], "kl_diag"), FORBIDDEN, "en") is None


def test_in_a_kernel_it_reads_the_live_function():
    """Where otter runs the tests in the student's kernel (Gradescope), the source comes from inspect."""
    namespace = {}
    source = "import torch\nimport vae_support.kl as K\ndef kl_diag(a, b, c, d):\n    return K.gaussian_kl(a, b, c, d)\n"
    path = pathlib.Path(__file__).with_name("_delegation_kernel_case.py")
    try:
        path.write_text(source, encoding="utf-8")
        exec(compile(source, str(path), "exec"), namespace)
        assert "vae_support.kl.gaussian_kl" in delegation_problem(namespace["kl_diag"], FORBIDDEN, "en")
    finally:
        path.unlink()
