"""Robustness battery: vae_support called as a hostile reader would, every call under a time limit.

Each try calls one public function (or constructor, or method) with one bad argument, or with an
edge case whose answer is defined (a −inf log-weight, an empty batch, a KL that float16 holds).
Every outcome is classified:

* ``clear`` — a ``ValueError`` / ``TypeError`` (or the package's own errors: ``NonFiniteLossError``,
  ``CheckpointError``, ``ConnectionError`` / ``FileNotFoundError`` of the data loaders) whose
  message names the bad argument (as a whole word: ``x`` in "expected" does not count);
* ``unclear`` — any other exception, or a message that does not name the argument;
* ``silent`` — returned where it should have raised, or returned a non-finite or provably wrong
  value where the answer is defined;
* ``hang`` — still running after the per-call time limit (the call runs in a forked worker,
  which is killed);
* ``correct`` — an edge case whose defined value came back right.

Run from the repository root::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/robustness.py [--timeout 10] [--verbose]

It prints the counts per module and in total, and lists every try that is not clear or correct.
It also runs on older versions of the package (for a before/after comparison): tries whose
function does not exist there are skipped and counted as such.
"""
from __future__ import annotations

import argparse
import collections
import http.server
import inspect
import math
import multiprocessing as mp
import re
import socketserver
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

torch.set_num_threads(1)

NAN, INF = float("nan"), float("inf")


# ----------------------------------------------------------------------------- the tries
@dataclass
class Try:
    module: str
    label: str
    call: Callable[[], Any]
    names: tuple = ()  # an error must name one of these
    check: Callable[[Any], bool] | None = None  # a defined answer: True when the returned value is right


def err(module, label, call, *names) -> Try:
    return Try(module, label, call, names)


def val(module, label, call, check) -> Try:
    return Try(module, label, call, (), check)


def finite(t) -> bool:
    return bool(torch.isfinite(torch.as_tensor(t)).all())


def bad_tensors(valid: torch.Tensor, allow_neg_inf: bool = False) -> list[tuple[str, Any]]:
    """Hostile versions of a valid tensor argument: NaN, ±inf, wrong rank and size, wrong types."""
    out = []
    for desc, fill in (("nan", NAN), ("+inf", INF)) + (() if allow_neg_inf else (("-inf", -INF),)):
        t = valid.clone()
        t.view(-1)[0] = fill
        out.append((desc, t))
    out += [
        ("string", "abc"),
        ("None", None),
        ("complex", valid.to(torch.complex64)),
        ("extra-dim", valid.unsqueeze(0).expand(2, *valid.shape).unsqueeze(-1)),
        ("last-dim+1", torch.cat([valid, valid[..., :1]], -1) if valid.dim() else valid.reshape(1, 1)),
    ]
    return out


def bad_ints(minimum: int = 1) -> list[tuple[str, Any]]:
    return [("below-min", minimum - 1), ("float", 2.5), ("string", "3"), ("None", None), ("nan", NAN), ("bool", True)]


def bad_positive_reals() -> list[tuple[str, Any]]:
    return [("zero", 0.0), ("negative", -1.0), ("nan", NAN), ("inf", INF), ("string", "x"), ("None", None)]


def bad_choices() -> list[tuple[str, Any]]:
    return [("unknown", "nope"), ("None", None), ("int", 3)]


def mutate(module: str, name: str, fn: Callable, valid: dict, bad: dict[str, list], names: dict | None = None):
    """One try per (argument, bad value): ``fn(**valid)`` with that argument replaced."""
    names = names or {}
    tries = []
    for arg, values in bad.items():
        for desc, value in values:
            kwargs = {**valid, arg: value}
            tries.append(err(module, f"{name}({arg}={desc})", lambda kw=kwargs: fn(**kw), arg, *names.get(arg, ())))
    return tries


# ------------------------------------------------------------------------- module by module
def distributions_tries(vs):
    D = vs.distributions
    m = "distributions"
    loc, scale = torch.zeros(3, 2), torch.ones(3, 2)
    tries = mutate(m, "diagonal_gaussian", D.diagonal_gaussian, dict(loc=loc, scale=scale),
                   dict(loc=bad_tensors(loc), scale=bad_tensors(scale) + [("zero", torch.zeros(3, 2)), ("negative", -scale)]))
    L = torch.eye(2)
    tries += mutate(m, "full_gaussian", D.full_gaussian, dict(loc=torch.zeros(2), scale_tril=L),
                    dict(loc=bad_tensors(torch.zeros(2)),
                         scale_tril=bad_tensors(L) + [("upper", torch.tensor([[1.0, 1.0], [0.0, 1.0]])),
                                                       ("neg-diag", -L)]))
    tries += mutate(m, "bernoulli_likelihood", D.bernoulli_likelihood, dict(logits=torch.zeros(3, 4)),
                    dict(logits=bad_tensors(torch.zeros(3, 4))[:5]))
    tries += mutate(m, "gaussian_likelihood", D.gaussian_likelihood, dict(loc=torch.zeros(3, 4), scale=torch.ones(4)),
                    dict(scale=[("zero", torch.zeros(4)), ("negative", -torch.ones(4)), ("nan", torch.full((4,), NAN))]))
    logits = torch.zeros(2, 17)
    lik = D.categorical_likelihood(logits)
    for desc, v in (("3.5", 3.5), ("17", 17.0), ("-1", -1.0), ("nan", NAN)):
        tries.append(err(m, f"categorical_likelihood(...).log_prob({desc})",
                         lambda v=v: lik.log_prob(torch.tensor([v, 1.0])), "value"))
    tries += mutate(m, "categorical_likelihood", D.categorical_likelihood, dict(logits=logits),
                    dict(logits=[("nan", torch.full((2, 17), NAN)), ("string", "abc"), ("None", None)]))
    tries += mutate(m, "pixel_mean", D.pixel_mean, dict(likelihood=lik),
                    dict(likelihood=[("tensor", torch.zeros(3)), ("None", None), ("string", "x")]))
    tries += mutate(m, "StandardNormalPrior", D.StandardNormalPrior, dict(z_dim=2), dict(z_dim=bad_ints()))
    tries += mutate(m, "MixturePrior", D.MixturePrior, dict(z_dim=2, n_components=3),
                    dict(z_dim=bad_ints(), n_components=bad_ints()))
    tries += mutate(m, "VampPrior", D.VampPrior, dict(x_dim=4, n_components=3, init_scale=1.0),
                    dict(x_dim=bad_ints(), n_components=bad_ints(), init_scale=bad_positive_reals()))
    tries.append(val(m, "categorical_likelihood.log_prob(levels 0 and 16)",
                     lambda: lik.log_prob(torch.tensor([0.0, 16.0])),
                     lambda v: torch.allclose(v, torch.tensor(2 * -math.log(17)))))
    return tries


def kl_tries(vs):
    K = vs.kl
    m = "kl"
    mu, lv = torch.zeros(3, 2), torch.zeros(3, 2)
    tries = mutate(m, "gaussian_kl", K.gaussian_kl, dict(mu_q=mu, logvar_q=lv),
                   dict(mu_q=bad_tensors(mu)[:5], logvar_q=bad_tensors(lv)[:5],
                        mu_p=bad_tensors(mu)[:4] + [("bad-shape", torch.zeros(4, 5))]))
    cov = torch.eye(2)
    tries += mutate(m, "full_gaussian_kl", K.full_gaussian_kl,
                    dict(mu_q=torch.zeros(2), cov_q=cov, mu_p=torch.zeros(2), cov_p=cov),
                    dict(mu_q=bad_tensors(torch.zeros(2))[:5], cov_q=bad_tensors(cov)[:6] + [
                        ("non-symmetric", torch.tensor([[1.0, 0.5], [0.0, 1.0]])), ("not-PD", -cov),
                        ("wrong-d", torch.eye(3))],
                         cov_p=[("singular", torch.zeros(2, 2)), ("nan", torch.full((2, 2), NAN))]))
    N = torch.distributions.Normal
    q, p = N(torch.zeros(3), 1.0), N(torch.zeros(3), 2.0)
    tries += mutate(m, "monte_carlo_kl", K.monte_carlo_kl, dict(q=q, p=p, n_samples=10),
                    dict(q=[("tensor", torch.zeros(3)), ("None", None)], p=[("tensor", torch.zeros(3))],
                         n_samples=bad_ints(2)))
    tries.append(err(m, "monte_carlo_kl(p with a smaller support)",
                     lambda: K.monte_carlo_kl(N(torch.zeros(1), 1.0),
                                              torch.distributions.Uniform(torch.zeros(1), torch.ones(1)), 100), "p"))
    post = torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
    tries += mutate(m, "kl_mean_gradient", K.kl_mean_gradient, dict(mean=torch.zeros(5, 2), cov_q=cov, posterior=post),
                    dict(mean=bad_tensors(torch.zeros(5, 2))[:4], posterior=[("normal", N(0.0, 1.0)), ("None", None)],
                         cov_q=[("nan", torch.full((2, 2), NAN)), ("not-PD", -cov)]))
    half = torch.float16
    tries.append(val(m, "gaussian_kl(float16, KL 45000)",
                     lambda: K.gaussian_kl(torch.tensor([300.0], dtype=half), torch.zeros(1, dtype=half)),
                     lambda v: finite(v) and abs(float(v) - 45000) < 50))
    tries.append(val(m, "gaussian_kl(q = p) = 0", lambda: K.gaussian_kl(mu, lv), lambda v: bool((v == 0).all())))
    return tries


def bounds_tries(vs):
    B = vs.bounds
    m = "bounds"
    a = torch.zeros(4, 3)
    tries = mutate(m, "log_weights", B.log_weights, dict(log_px_z=a, log_pz=a, log_qz_x=a),
                   dict(log_px_z=bad_tensors(a), log_pz=bad_tensors(a)[:5], log_qz_x=bad_tensors(a)[:5]),
                   names={k: ("equal shapes", "log_px_z") for k in ("log_px_z", "log_pz", "log_qz_x")})
    for fn in ("elbo", "iwae_bound"):
        tries += mutate(m, fn, getattr(B, fn), dict(log_w=a),
                        dict(log_w=bad_tensors(a, allow_neg_inf=True)[:4] + [
                            ("scalar", torch.tensor(1.0)), ("no-samples", torch.zeros(0, 3))]))
    N = torch.distributions.Normal
    q = torch.distributions.Independent(N(torch.zeros(3, 2), 1.0), 1)
    p = torch.distributions.Independent(N(torch.zeros(2), 1.0), 1)
    tries += mutate(m, "elbo_terms", B.elbo_terms, dict(log_px_z=a, q=q, p=p),
                    dict(log_px_z=bad_tensors(a)[:5] + [("no-samples", torch.zeros(0, 3))],
                         q=[("tensor", torch.zeros(3)), ("None", None)], p=[("tensor", torch.zeros(2))]))
    tries += mutate(m, "beta_elbo", B.beta_elbo, dict(reconstruction=torch.zeros(3), kl=torch.ones(3), beta=1.0),
                    dict(reconstruction=bad_tensors(torch.zeros(3))[:5], kl=bad_tensors(torch.ones(3))[:5] + [
                        ("negative", -torch.ones(3)), ("shape", torch.ones(4))],
                         beta=[("negative", -1.0), ("nan", NAN), ("inf", INF), ("string", "x")]),
                    names={"shape": ("reconstruction",)})
    tries += mutate(m, "iwae_bounds_by_k", B.iwae_bounds_by_k, dict(log_w=a, ks=[1, 2]),
                    dict(ks=[("non-divisor", [3]), ("zero", [0]), ("float", [1.5]), ("string", ["a"])],
                         log_w=[("nan", torch.full((4, 3), NAN)), ("3-d", torch.zeros(4, 3, 2))]))
    tries.append(val(m, "elbo_terms(empty batch) is empty",
                     lambda: B.elbo_terms(torch.zeros(2, 0), torch.distributions.Independent(N(torch.zeros(0, 2), 1.0), 1), p),
                     lambda v: all(t.shape == (0,) for t in v)))
    tries.append(val(m, "iwae_bound(-inf and 0)", lambda: B.iwae_bound(torch.tensor([[-INF], [0.0]])),
                     lambda v: torch.allclose(v, torch.tensor([-math.log(2)]))))
    tries.append(val(m, "iwae_bound(all -inf) = -inf", lambda: B.iwae_bound(torch.full((3, 1), -INF)),
                     lambda v: bool(v[0] == -INF)))
    return tries


def gradients_tries(vs):
    G = vs.gradients
    m = "gradients"
    f = torch.zeros(4, 3)
    tries = mutate(m, "reparameterization_surrogate", G.reparameterization_surrogate, dict(f_z=f),
                   dict(f_z=[("nan", torch.full((4, 3), NAN)), ("string", "x"), ("scalar", torch.tensor(1.0)),
                             ("no-samples", torch.zeros(0, 3))]))
    tries += mutate(m, "score_function_surrogate", G.score_function_surrogate, dict(f_z=f, log_q=f),
                    dict(f_z=[("nan", torch.full((4, 3), NAN)), ("string", "x"), ("no-samples", torch.zeros(0, 3))],
                         log_q=[("nan", torch.full((4, 3), NAN)), ("shape", torch.zeros(4, 2))],
                         baseline=[("nan", torch.tensor(NAN)), ("shape", torch.zeros(5, 7))]),
                    names={"log_q": ("f_z",), "baseline": ("f_z",)})
    tries += mutate(m, "leave_one_out_baseline", G.leave_one_out_baseline, dict(f_z=f),
                    dict(f_z=[("one-sample", torch.zeros(1, 3)), ("nan", torch.full((4, 3), NAN)), ("string", "x")]))
    tries += mutate(m, "iwae_surrogate", G.iwae_surrogate, dict(log_w=f),
                    dict(log_w=[("nan", torch.full((4, 3), NAN)), ("+inf", torch.full((4, 3), INF)),
                                ("no-samples", torch.zeros(0, 3))]))
    tries += mutate(m, "vimco_surrogate", G.vimco_surrogate, dict(log_w=f, log_q=f),
                    dict(log_w=[("nan", torch.full((4, 3), NAN)), ("K=1", torch.zeros(1, 3)), ("string", "x")],
                         log_q=[("nan", torch.full((4, 3), NAN)), ("shape", torch.zeros(4, 2))]),
                    names={"log_q": ("log_w",)})
    w = torch.zeros(2, requires_grad=True)
    tries += mutate(m, "gradient_draws", G.gradient_draws, dict(surrogate=lambda: (w ** 2).sum(), params=[w], n_draws=2),
                    dict(params=[("no-grad", [torch.zeros(2)]), ("empty", [])], n_draws=bad_ints()))
    tries += mutate(m, "estimator_variance", G.estimator_variance,
                    dict(surrogate=lambda: (w ** 2).sum(), params=[w], n_draws=3), dict(n_draws=bad_ints(2)))
    ll = lambda z: -(z ** 2).sum(-1)  # noqa: E731
    tries += mutate(m, "reconstruction_gradient", G.reconstruction_gradient,
                    dict(log_likelihood=ll, mean=torch.zeros(5, 2), std=torch.ones(2), eps=torch.randn(3, 2)),
                    dict(mean=bad_tensors(torch.zeros(5, 2))[:5], std=[("zero", torch.zeros(2)), ("negative", -torch.ones(2)),
                                                                      ("nan", torch.full((2,), NAN))],
                         eps=[("nan", torch.full((3, 2), NAN)), ("wrong-d", torch.zeros(3, 3))]), names={"eps": ("mean",)})
    prior = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(2), 1.0), 1)
    tries += mutate(m, "regularization_gradient", G.regularization_gradient,
                    dict(mean=torch.zeros(5, 2), std=torch.ones(2), prior=prior),
                    dict(mean=bad_tensors(torch.zeros(5, 2))[:4], std=[("zero", torch.zeros(2)), ("nan", torch.full((2,), NAN))],
                         prior=[("tensor", torch.zeros(2)), ("None", None)]))
    tries += mutate(m, "reparameterize_grid", G.reparameterize_grid, dict(mean=torch.zeros(2), scale_tril=torch.eye(2)),
                    dict(mean=bad_tensors(torch.zeros(2))[:5], scale_tril=[("upper", torch.tensor([[1.0, 1.0], [0.0, 1.0]])),
                                                                          ("neg", -torch.eye(2)), ("nan", torch.full((2, 2), NAN))],
                         lim=[("nan", NAN), ("inf", INF), ("negative", -1.0), ("zero", 0.0), ("string", "x")],
                         n_lines=bad_ints(2), n_points=bad_ints(2)))
    lw = torch.tensor([[-INF], [1.0], [2.0]])
    tries.append(val(m, "leave_one_out_baseline([-inf, 2, 3])[0] = 2.5",
                     lambda: G.leave_one_out_baseline(torch.tensor([[-INF], [2.0], [3.0]])),
                     lambda v: float(v[0, 0]) == 2.5 and not torch.isnan(v).any()))

    def vimco_grads():
        a, b = lw.clone().requires_grad_(True), torch.tensor([[0.1], [0.2], [0.3]], requires_grad=True)
        G.vimco_surrogate(a, b).sum().backward()
        return a.grad, b.grad

    tries.append(val(m, "vimco_surrogate(-inf log-weight) gradients", vimco_grads,
                     lambda g: finite(g[0]) and finite(g[1])))
    return tries


def toy_tries(vs):
    T = vs.toy
    m = "toy"
    N = torch.distributions.Normal
    f64 = torch.float64
    W, b = torch.randn(4, 2, dtype=f64), torch.zeros(4, dtype=f64)
    tries = mutate(m, "LinearGaussian", T.LinearGaussian, dict(W=W, b=b, noise_std=0.5),
                   dict(W=bad_tensors(W)[:5] + [("1-d", torch.zeros(4, dtype=f64))],
                        b=[("nan", torch.full((4,), NAN, dtype=f64)), ("shape", torch.zeros(3, dtype=f64))],
                        noise_std=bad_positive_reals()), names={"b": ("W",)})
    lg = T.LinearGaussian(W, b, 0.5)
    x = torch.zeros(4, dtype=f64)
    for meth in ("log_marginal", "posterior"):
        tries += mutate(m, f"LinearGaussian.{meth}", getattr(lg, meth), dict(x=x),
                        dict(x=bad_tensors(x)[:5] + [("wrong-dim", torch.zeros(5, dtype=f64))]))
    prior = N(torch.tensor(0.0, dtype=f64), torch.tensor(1.0, dtype=f64))
    lik = lambda z: N(z, 1.0)  # noqa: E731
    tries += mutate(m, "Grid1D", T.Grid1D, dict(prior=prior, likelihood=lik, x=1.0),
                    dict(prior=[("batched", N(torch.zeros(2), 1.0)), ("tensor", torch.zeros(1))],
                         likelihood=[("not-callable", 3)], x=[("nan", NAN), ("inf", INF), ("string", "x")],
                         z_min=[("nan", NAN), ("above-z_max", 20.0), ("string", "x")], n=bad_ints(101)))
    tries.append(err(m, "Grid1D(likelihood 0 everywhere)",
                     lambda: T.Grid1D(prior, lambda z: torch.distributions.Uniform(z - 1e-3 + 100, z + 1e-3 + 100), x=1.0),
                     "likelihood"))
    tries.append(err(m, "Grid1D(narrow grid)", lambda: T.Grid1D(prior, lik, x=1.0, z_min=-1.0, z_max=1.0), "z_min"))
    g = T.Grid1D(prior, lik, x=1.0)
    tries += mutate(m, "Grid1D.posterior_probability", g.posterior_probability, dict(lower=-1.0, upper=1.0),
                    dict(lower=[("nan", NAN), ("string", "x"), ("above-upper", 2.0)], upper=[("nan", NAN)]))
    for meth in ("kl", "elbo"):
        tries += mutate(m, f"Grid1D.{meth}", getattr(g, meth), dict(q=N(torch.tensor(0.0, dtype=f64), 1.0)),
                        dict(q=[("outside", N(torch.tensor(50.0, dtype=f64), 1.0)),
                                ("too-narrow", N(torch.tensor(0.3, dtype=f64), 1e-10)),
                                ("tensor", torch.zeros(1)), ("2-d", torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2)))]))
    tries.append(val(m, "Grid1D: log p(x) = ELBO + KL", lambda: (g.log_marginal(), g.elbo(N(torch.tensor(0.3, dtype=f64), 0.8)),
                                                                g.kl(N(torch.tensor(0.3, dtype=f64), 0.8))),
                     lambda v: abs(float(v[0] - v[1] - v[2])) < 1e-8))
    tries.append(val(m, "Grid1D: posterior_probability(-inf, inf) = 1", lambda: g.posterior_probability(),
                     lambda v: abs(float(v) - 1) < 1e-6))
    return tries, g


def models_tries(vs):
    M = vs.models
    m = "models"
    tries = mutate(m, "VAE", M.VAE, dict(x_dim=4, z_dim=2, hidden=(8,)),
                   dict(x_dim=bad_ints(), z_dim=bad_ints(), hidden=[("zero", (0,)), ("negative", (-3,)), ("string", "ab"),
                                                                   ("float", (2.5,))],
                        likelihood=bad_choices(), levels=bad_ints(2), prior=bad_choices(), encoder_cov=bad_choices(),
                        n_components=bad_ints(), obs_scale=[("zero", 0.0), ("nan", NAN), ("negative", -1.0)],
                        activation=bad_choices(), encoder_dropout=[("one", 1.0), ("negative", -0.1), ("nan", NAN)],
                        decoder_dropout=[("one", 1.0), ("nan", NAN)]),
                   names={"obs_scale": ("likelihood",)})
    tries = [t for t in tries if "obs_scale" not in t.label] + mutate(
        m, "VAE(gaussian)", M.VAE, dict(x_dim=4, z_dim=2, hidden=(8,), likelihood="gaussian"),
        dict(obs_scale=[("zero", 0.0), ("nan", NAN), ("negative", -1.0), ("inf", INF), ("string", "x")]))
    tries += mutate(m, "DiscreteVAE", M.DiscreteVAE, dict(x_dim=4, z_dim=2, hidden=(8,)),
                    dict(x_dim=bad_ints(), z_dim=bad_ints(), likelihood=bad_choices(), levels=bad_ints(2)))
    torch.manual_seed(0)
    vae = M.VAE(hidden=(8,), z_dim=2)
    x = torch.randint(0, 17, (5, 64)).float()
    bad_x = [("nan", torch.full((5, 64), NAN)), ("inf", torch.full((5, 64), INF)), ("3.5", torch.full((5, 64), 3.5)),
             ("17", torch.full((5, 64), 17.0)), ("-1", torch.full((5, 64), -1.0)), ("shape", torch.zeros(5, 63)),
             ("1-d", torch.zeros(64)), ("list", [[0.0] * 64]), ("bool", torch.zeros(5, 64, dtype=torch.bool)),
             ("complex", torch.zeros(5, 64, dtype=torch.complex64)), ("meta", torch.zeros(5, 64, device="meta"))]
    for meth in ("elbo", "iwae", "log_weights", "elbo_terms"):
        tries += mutate(m, f"VAE.{meth}", getattr(vae, meth), dict(x=x, k=2), dict(x=bad_x, k=bad_ints()))
    tries += mutate(m, "VAE.encode", vae.encode, dict(x=x), dict(x=bad_x[:6]))
    tries += mutate(m, "VAE.reconstruct", vae.reconstruct, dict(x=x), dict(x=bad_x[:6]))
    z = torch.zeros(3, 2)
    tries += mutate(m, "VAE.decode", vae.decode, dict(z=z), dict(z=bad_tensors(z)[:5] + [("wrong-d", torch.zeros(3, 5))]))
    dist = vae.decode(z)
    tries.append(err(m, "VAE.decode(z).log_prob(3.5)", lambda: dist.log_prob(torch.full((3, 64), 3.5)), "value"))
    tries += mutate(m, "VAE.sample", vae.sample, dict(n=2), dict(n=bad_ints()))
    tries.append(val(m, "VAE.elbo(empty batch) is empty", lambda: vae.elbo(x[:0], 2), lambda v: v.shape == (0,)))
    dvae = M.DiscreteVAE(hidden=(8,), z_dim=2)
    tries += mutate(m, "DiscreteVAE.elbo", dvae.elbo, dict(x=x, k=2), dict(x=bad_x[:6]))
    return tries, vae, dvae, x


def train_tries(vs, vae, dvae, x, tmp: Path):
    Tr = vs.train
    m = "train"
    fields = dict(epochs=bad_ints(), batch_size=bad_ints(), optimizer=bad_choices(), lr=bad_positive_reals(),
                  weight_decay=[("negative", -1.0), ("nan", NAN)], lr_decay=[("zero", 0.0), ("above-1", 1.5), ("nan", NAN)],
                  seed=[("negative", -1), ("float", 0.5)], objective=bad_choices(), k=bad_ints(),
                  beta=[("negative", -1.0), ("nan", NAN), ("inf", INF)], warmup_epochs=[("negative", -1)],
                  free_bits=[("negative", -1.0), ("nan", NAN)], patience=[("zero", 0), ("float", 1.5)],
                  grad_clip=[("zero", 0.0), ("negative", -1.0), ("nan", NAN)], ema=[("one", 1.0), ("negative", -0.5), ("nan", NAN)],
                  eval_k=bad_ints(), eval_seed=[("negative", -1)], device=[("int", 3)], threads=[("zero", 0)])
    tries = mutate(m, "TrainConfig", Tr.TrainConfig, dict(progress=False), fields)
    fast = dict(epochs=1, batch_size=5, progress=False)
    fit = lambda **kw: Tr.fit(**{"model": vae, "train": x, **fast, **kw})  # noqa: E731
    bad_x = [("nan", torch.full((5, 64), NAN)), ("3.5", torch.full((5, 64), 3.5)), ("17", torch.full((5, 64), 17.0)),
             ("shape", torch.zeros(5, 63)), ("list", [[0.0] * 64]), ("empty", torch.zeros(0, 64))]
    tries += mutate(m, "fit", fit, {}, dict(model=[("module", torch.nn.Linear(2, 2)), ("None", None)], train=bad_x,
                                          val=bad_x[:4], augment=[("not-callable", 3),
                                                                  ("non-integers", lambda b: b + 0.5),
                                                                  ("nan", lambda b: b * NAN),
                                                                  ("shape", lambda b: b[:, :10])],
                                          resume=[("missing", str(tmp / "missing.pt"))],
                                          patience=[("without-val", 2)]),
                    names={"train": ("train",), "resume": ("path",), "patience": ("val",)})
    tries.append(err(m, "fit(DiscreteVAE, objective='elbo')", lambda: Tr.fit(dvae, x, **fast), "objective"))
    tries.append(err(m, "fit(DiscreteVAE, objective='iwae')", lambda: Tr.fit(dvae, x, objective="iwae", k=2, **fast),
                     "objective"))
    # checkpoints: corrupted, truncated, older version, mismatched
    good = tmp / "good.pt"
    Tr.fit(M_small(vs), x, checkpoint=str(good), **fast)
    raw = good.read_bytes()
    variants = {"flipped-16": bytes(b ^ 0xFF if len(raw) // 2 <= i < len(raw) // 2 + 16 else b for i, b in enumerate(raw)),
                "truncated-683": raw[:683], "empty": b"", "text": b"hello"}
    for desc, data in variants.items():
        path = tmp / f"{desc}.pt"
        path.write_bytes(data)
        for fn in ("load_checkpoint", "load_model"):
            tries.append(err(m, f"{fn}({desc})", lambda fn=fn, p=path: getattr(Tr, fn)(p), "path"))
        tries.append(err(m, f"fit(resume={desc})", lambda p=path: Tr.fit(M_small(vs), x, resume=str(p), **fast),
                         "path", "resume"))
    old = tmp / "old.pt"
    torch.save({"model_class": "VAE", "model_kwargs": dict(M_small(vs).hparams), "model_state": M_small(vs).state_dict()}, old)
    tries.append(err(m, "load_model(older version, no checksum)", lambda: Tr.load_model(old), "path"))
    tries.append(err(m, "fit(resume into a tanh model)",
                     lambda: Tr.fit(M_small(vs, activation="tanh"), x, resume=str(good), **fast), "resume"))
    sgd = tmp / "sgd.pt"
    Tr.fit(M_small(vs), x, checkpoint=str(sgd), optimizer="sgd", lr=1e-3, **fast)
    tries.append(err(m, "fit(resume an sgd checkpoint with adam)",
                     lambda: Tr.fit(M_small(vs), x, resume=str(sgd), **{**fast, "epochs": 2}), "resume", "optimizer"))

    def huge_lr():
        model = M_small(vs)
        start = [p.detach().clone() for p in model.parameters()]
        try:
            Tr.fit(model, x, optimizer="sgd", lr=1e3, **{**fast, "epochs": 3})
        except Tr.NonFiniteLossError:
            pass
        return max(float((p.detach() - s).abs().max()) for p, s in zip(model.parameters(), start))

    tries.append(val(m, "fit(lr=1e3): the kept weights are not the exploded ones", huge_lr, lambda v: v < 10))
    tries += mutate(m, "evaluate", Tr.evaluate, dict(model=vae, x=x), dict(x=bad_x, k=bad_ints(), batch_size=bad_ints()))
    tries += mutate(m, "active_units", Tr.active_units, dict(q_means=torch.randn(5, 2)),
                    dict(q_means=[("one-point", torch.zeros(1, 2)), ("1-d", torch.zeros(5)), ("nan", torch.full((5, 2), NAN)),
                                  ("string", "abc")]))
    tries.append(val(m, "active_units(three equal codes, as a list) = 0", lambda: Tr.active_units([[0.0, 1.0]] * 3),
                     lambda v: v == 0))
    tries += mutate(m, "save_checkpoint", Tr.save_checkpoint, dict(path=tmp / "s.pt", model=vae),
                    dict(model=[("module", torch.nn.Linear(2, 2)), ("None", None)]))
    return tries


def M_small(vs, **kw):
    torch.manual_seed(0)
    return vs.models.VAE(hidden=(8,), z_dim=2, **kw)


def inference_tries(vs, vae, x, grid):
    I = vs.inference
    m = "inference"
    tries = mutate(m, "optimize_local_q", I.optimize_local_q, dict(model=vae, x=x[:2], steps=2, k=2),
                   dict(model=[("module", torch.nn.Linear(2, 2))], x=[("nan", torch.full((2, 64), NAN)), ("shape", torch.zeros(2, 3))],
                        steps=bad_ints(), lr=bad_positive_reals(), k=bad_ints(), init=bad_choices()))
    tries += mutate(m, "inference_gaps", I.inference_gaps, dict(model=vae, x=x[:2], k_log_px=4, eval_k=2, steps=2, k=2),
                    dict(x=[("nan", torch.full((2, 64), NAN))], k_log_px=bad_ints()[:3], eval_k=bad_ints()[:3]))
    lg = vs.toy.LinearGaussian.random()
    xo = torch.zeros(5, dtype=torch.float64)
    tries += mutate(m, "fit_gaussian_q", I.fit_gaussian_q, dict(model=lg, x=xo, steps=2),
                    dict(model=[("vae", vae)], x=[("nan", torch.full((5,), NAN)), ("shape", torch.zeros(3))],
                         family=bad_choices(), steps=bad_ints(), lr=bad_positive_reals()))
    tries += mutate(m, "ascend_elbo_path", I.ascend_elbo_path, dict(model=lg, x=xo, mean0=torch.zeros(2), std0=torch.ones(2), steps=2),
                    dict(mean0=[("nan", torch.full((2,), NAN)), ("shape", torch.zeros(3))],
                         std0=[("zero", torch.zeros(2)), ("negative", -torch.ones(2)), ("nan", torch.full((2,), NAN))],
                         steps=bad_ints(), lr=bad_positive_reals()[:4]))
    tries += mutate(m, "optimal_diagonal_gaussian", I.optimal_diagonal_gaussian, dict(posterior=lg.posterior(xo)),
                    dict(posterior=[("normal", torch.distributions.Normal(0.0, 1.0)), ("None", None)]))
    tries += mutate(m, "fit_normal", I.fit_normal, dict(grid=grid, steps=2),
                    dict(grid=[("None", None)], divergence=bad_choices(), mean0=[("nan", NAN), ("inf", INF), ("outside", 1e6)],
                         std0=[("zero", 0.0), ("negative", -1.0), ("tiny", 1e-10), ("nan", NAN)], steps=bad_ints(),
                         lr=bad_positive_reals()))
    return tries


def latent_tries(vs):
    Lt = vs.latent
    m = "latent"
    z0, z1 = torch.zeros(2), torch.ones(2)
    tries = []
    for fn in ("lerp", "slerp"):
        tries += mutate(m, fn, getattr(Lt, fn), dict(z0=z0, z1=z1, t=torch.linspace(0, 1, 3)),
                        dict(z0=bad_tensors(z0)[:5], z1=[("nan", torch.full((2,), NAN)), ("shape", torch.zeros(3))],
                             t=[("nan", torch.tensor([NAN])), ("string", "x")]), names={"z1": ("z0",)})
    tries += mutate(m, "gaussian_quantile_grid", Lt.gaussian_quantile_grid, dict(n=3),
                    dict(n=bad_ints(2), eps=[("zero", 0.0), ("half", 0.5), ("nan", NAN), ("string", "x")]))
    z = torch.randn(6, 2)
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    tries += mutate(m, "class_means", Lt.class_means, dict(z=z, labels=y),
                    dict(z=bad_tensors(z)[:4], labels=[("nan", torch.tensor([0, 0, 1, 1, 2, NAN])),
                                                       ("fractional", y + 0.5), ("shape", y[:3]), ("string", "abc")]),
                    names={"labels": ("z",)})
    classes, means = Lt.class_means(z, y)
    tries += mutate(m, "transfer_codes", Lt.transfer_codes, dict(z=z, labels=y, classes=classes, means=means, target=1),
                    dict(target=[("1.7", 1.7), ("unknown", 9), ("nan", NAN), ("string", "x")],
                         labels=[("unknown", y + 5), ("nan", torch.tensor([0, 0, 1, 1, 2, NAN])), ("shape", y[:2])],
                         means=[("nan", torch.full((3, 2), NAN)), ("shape", torch.zeros(2, 2))],
                         z=bad_tensors(z)[:3]), names={"means": ("classes",), "labels": ("z",)})
    c = torch.tensor([[1.0, 0.5], [0.5, 1.0]])
    tries += mutate(m, "gaussian_total_correlation", Lt.gaussian_total_correlation, dict(cov=c),
                    dict(cov=bad_tensors(c)[:5] + [("lower-only", torch.tensor([[1.0, 0.0], [0.5, 1.0]])),
                                                   ("upper-only", torch.tensor([[1.0, 0.5], [0.0, 1.0]])), ("not-PD", -c)]))
    q = vs.distributions.diagonal_gaussian(torch.zeros(4, 2), torch.ones(4, 2))
    bad_q = [("tensor", torch.zeros(4, 2)), ("None", None), ("no-batch", vs.distributions.diagonal_gaussian(torch.zeros(2), torch.ones(2))),
             ("scalar-event", torch.distributions.Normal(torch.zeros(4), torch.ones(4)))]
    for fn in ("aggregate_posterior", "aggregate_covariance"):
        tries += mutate(m, fn, getattr(Lt, fn), dict(q=q), dict(q=bad_q))
    prior = vs.distributions.diagonal_gaussian(torch.zeros(2), torch.ones(2))
    tries += mutate(m, "aggregate_kl", Lt.aggregate_kl, dict(q=q, prior=prior, n_samples=10),
                    dict(q=bad_q, prior=[("None", None), ("event-3", vs.distributions.diagonal_gaussian(torch.zeros(3), torch.ones(3))),
                                         ("batched", vs.distributions.diagonal_gaussian(torch.zeros(4, 2), torch.ones(4, 2)))],
                         n_samples=bad_ints()))
    tries.append(val(m, "gaussian_quantile_grid(3, 1e-300) is finite", lambda: Lt.gaussian_quantile_grid(3, 1e-300),
                     lambda v: finite(v) and abs(float(v[0]) + 37.0471) < 1e-3 and float(v[1]) == 0))
    tries.append(val(m, "gaussian_total_correlation(rho=0.5)", lambda: Lt.gaussian_total_correlation(c),
                     lambda v: abs(float(v) + 0.5 * math.log(0.75)) < 1e-6))
    return tries


def data_tries(vs, tmp: Path, urls: dict):
    Dt = vs.data
    m = "data"
    x = torch.randint(0, 17, (4, 64)).float()
    tries = mutate(m, "binarize", Dt.binarize, dict(x=x / 16),
                   dict(x=[("nan", torch.full((4, 64), NAN)), ("string", "x"), ("negative", -x)],
                        threshold=[("nan", NAN), ("negative", -0.5), ("above-1", 2.0)], levels=bad_ints(2)[:3]))
    tries += mutate(m, "random_shift", Dt.random_shift, dict(x=x),
                    dict(x=[("nan", torch.full((4, 64), NAN)), ("not-square", torch.zeros(4, 63)), ("list", [[0.0] * 64])],
                         max_shift=[("negative", -1), ("float", 1.5)], p=[("nan", NAN), ("above-1", 2.0), ("negative", -0.1)]),
                    names={"x": ("side",)})
    y = torch.arange(4)
    tries += mutate(m, "split_in_order", Dt.split_in_order, dict(x=x, y=y, sizes=(2, 1, 1)),
                    dict(sizes=[("negative", (5, -1, 0)), ("too-big", (3, 3, 3)), ("two", (1, 1)), ("float", (1.5, 1, 1)),
                                ("None", None)],
                         y=[("shorter", y[:2]), ("string", "abcd")]), names={"y": ("x",)})
    tries += mutate(m, "read_idx", Dt.read_idx, dict(path=tmp / "nothing"),
                    dict(path=[("missing", tmp / "missing.idx"), ("garbage", _file(tmp / "garbage.idx", b"\x01\x02\x03\x04")),
                               ("truncated", _file(tmp / "trunc.idx", b"\x00\x00\x08\x02\x00\x00"))]))
    body_sha = __import__("hashlib").sha256(b"x" * 1000).hexdigest()
    has_deadline = "deadline" in inspect.signature(Dt.fetch).parameters
    extra = {"deadline": 2.0} if has_deadline else {}
    for mode, url in urls.items():
        cache = tmp / f"cache-{mode}"
        sha = "0" * 64 if mode in ("wrong", "full") else body_sha  # "full" with a wrong checksum too: it must fail
        tries.append(err(m, f"fetch(server {mode})",
                         lambda url=url, cache=cache, sha=sha: Dt.fetch("f.bin", sha, [url], cache_dir=cache, **extra),
                         "f.bin", "mirrors"))
    tries += mutate(m, "fetch", lambda **kw: Dt.fetch(cache_dir=tmp / "cache-args", **extra, **kw),
                    dict(filename="f.bin", sha256=body_sha, mirrors=[urls["refused"]]),
                    dict(filename=[("None", None), ("path", "../x")], sha256=[("short", "abc"), ("None", None)],
                         mirrors=[("None", None), ("empty", []), ("int", 3)]),
                    names={"filename": ("f.bin",), "sha256": ("f.bin",), "mirrors": ("f.bin",)})
    tries.append(val(m, "fetch: a truncated mirror, then a good one", lambda: Dt.fetch(
        "g.bin", body_sha, [urls["truncate"], urls["refused"], urls["full"]], cache_dir=tmp / "cache-next", **extra),
        lambda p: Path(p).read_bytes() == b"x" * 1000 and not list(Path(p).parent.glob("*.part"))))
    return tries


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def widgets_tries(vs, grid, vae):
    W = vs.widgets
    m = "widgets"
    tries = mutate(m, "q_explorer_state", W.q_explorer_state, dict(grid=grid, mean=0.0, std=1.0),
                   dict(grid=[("None", None)], mean=[("nan", NAN), ("inf", INF), ("far", 1e6), ("string", "x")],
                        std=[("zero", 0.0), ("negative", -1.0), ("tiny", 1e-12), ("huge", 1e6), ("nan", NAN)]),
                   names={"mean": ("std",), "std": ("mean",)})
    tries += mutate(m, "decode_latent", W.decode_latent, dict(model=vae, z=torch.zeros(2)),
                    dict(z=[("nan", torch.full((2,), NAN)), ("wrong-d", torch.zeros(5)), ("string", "x")],
                         model=[("None", None)]))
    state = lambda: W.q_explorer_state(grid, 0.5, 0.9)  # noqa: E731
    tries.append(val(m, "q_explorer_state: gap = KL >= 0, ELBO <= log p(x)", state,
                     lambda s: s.kl >= 0 and s.elbo <= s.log_px and abs(s.gap - s.kl) < 1e-6))
    return tries


def seeding_tries(vs):
    S = vs.seeding
    return mutate("seeding", "set_seed", S.set_seed, dict(seed=0), dict(seed=[("negative", -1), ("float", 1.5), ("string", "x"),
                                                                            ("None", None)]))


def _optional_module(vs, name: str):
    """``vae_support.<name>`` if this version of the package has it (in the same folder as its other modules)."""
    import importlib

    module = importlib.import_module(f"vae_support.{name}")
    if Path(module.__file__).parent != Path(vs.models.__file__).parent:  # found elsewhere (an editable install)
        raise ModuleNotFoundError(f"vae_support.{name} is not part of this version of the package")
    return module


def flows_tries(vs):
    """Normalizing-flow posteriors (Part III), where the package has them."""
    F = _optional_module(vs, "flows")
    m = "flows"
    tries = mutate(m, "make_flow", F.make_flow, dict(kind="planar", z_dim=2),
                   dict(kind=bad_choices(), z_dim=bad_ints(), length=bad_ints()))
    tries += mutate(m, "make_flow(iaf)", F.make_flow, dict(kind="iaf", z_dim=2), dict(hidden=bad_ints()))
    tries += mutate(m, "PlanarFlow", F.PlanarFlow, dict(z_dim=2), dict(z_dim=bad_ints(), length=bad_ints()))
    tries += mutate(m, "IAF", F.IAF, dict(z_dim=2), dict(z_dim=bad_ints(), length=bad_ints(), hidden=bad_ints()))
    tries += mutate(m, "VAE(encoder=...)", vs.models.VAE, dict(x_dim=4, z_dim=2, hidden=(8,), encoder="iaf"),
                    dict(encoder=[("unknown", "nope"), ("int", 3)], flow_length=bad_ints(), flow_hidden=bad_ints()))
    torch.manual_seed(0)
    vae = vs.models.VAE(hidden=(8,), z_dim=2, encoder="iaf")
    x = torch.randint(0, 17, (3, 64)).float()
    tries += mutate(m, "VAE(encoder='iaf').elbo", vae.elbo, dict(x=x, k=2),
                    dict(x=[("nan", torch.full((3, 64), NAN)), ("3.5", torch.full((3, 64), 3.5)), ("shape", torch.zeros(3, 5))],
                         k=bad_ints()))
    return tries


def hierarchical_tries(vs):
    """Hierarchical VAEs (Part III), where the package has them."""
    H = _optional_module(vs, "hierarchical")
    m = "hierarchical"
    tries = mutate(m, "HierarchicalVAE", H.HierarchicalVAE, dict(z1_dim=2, z2_dim=2, hidden=(8,)),
                   dict(x_dim=bad_ints(), z1_dim=bad_ints(), z2_dim=bad_ints(), likelihood=bad_choices(),
                        levels=bad_ints(2), inference=bad_choices()))
    torch.manual_seed(0)
    model = H.HierarchicalVAE(z1_dim=2, z2_dim=2, hidden=(8,))
    x = torch.randint(0, 17, (4, 64)).float()
    bad_x = [("nan", torch.full((4, 64), NAN)), ("3.5", torch.full((4, 64), 3.5)), ("17", torch.full((4, 64), 17.0)),
             ("shape", torch.zeros(4, 5)), ("list", [[0.0] * 64])]
    tries += mutate(m, "fit_hierarchical", H.fit_hierarchical, dict(model=model, x=x, epochs=1, batch_size=4),
                    dict(x=bad_x, epochs=bad_ints(), batch_size=bad_ints(), lr=bad_positive_reals()[:4],
                         free_bits=[("negative", -1.0), ("nan", NAN)]))
    tries += mutate(m, "active_units_per_level", H.active_units_per_level, dict(model=model, x=x, k=2),
                    dict(x=bad_x[:4], k=bad_ints()))
    tries += mutate(m, "two_layer_toy", H.two_layer_toy, dict(a=1.0, s=0.5, noise_std=0.5),
                    dict(a=[("nan", NAN), ("inf", INF)], s=[("nan", NAN), ("negative", -1.0)],
                         noise_std=bad_positive_reals()[:4], inference=bad_choices()[:1]))
    return tries


# ------------------------------------------------------------------------ hostile servers
class _Handler(http.server.BaseHTTPRequestHandler):
    body = b"x" * 1000
    mode = "full"

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            if self.mode == "trickle":
                for i in range(len(self.body)):
                    self.wfile.write(self.body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.5)
            elif self.mode == "truncate":
                self.wfile.write(self.body[:10])
            else:
                self.wfile.write(self.body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


def start_servers() -> dict:
    urls = {}
    for mode in ("trickle", "truncate", "full", "wrong"):
        handler = type(f"H_{mode}", (_Handler,), {"mode": "full" if mode == "wrong" else mode})
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        urls[mode] = f"http://127.0.0.1:{server.server_address[1]}/"
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    urls["refused"] = f"http://127.0.0.1:{s.getsockname()[1]}/"  # bound, never listening: connection refused
    s.close()
    return urls


# ---------------------------------------------------------------------------- the runner
class Package:
    """The modules of vae_support, imported once."""

    def __init__(self):
        import importlib

        for name in ("distributions", "kl", "bounds", "gradients", "toy", "models", "train", "inference", "latent",
                     "data", "widgets", "seeding"):
            setattr(self, name, importlib.import_module(f"vae_support.{name}"))


def build(tmp: Path, urls: dict) -> tuple[list[Try], list[str]]:
    vs = Package()
    tries, skipped = [], []

    def add(label, make):
        try:
            made = make()
        except Exception as e:  # a function missing in this version of the package
            skipped.append(f"{label}: {type(e).__name__}: {e}")
            return None
        return made

    for label, make in (("distributions", lambda: distributions_tries(vs)), ("kl", lambda: kl_tries(vs)),
                        ("bounds", lambda: bounds_tries(vs)), ("gradients", lambda: gradients_tries(vs)),
                        ("latent", lambda: latent_tries(vs)), ("seeding", lambda: seeding_tries(vs)),
                        ("data", lambda: data_tries(vs, tmp, urls)), ("flows", lambda: flows_tries(vs)),
                        ("hierarchical", lambda: hierarchical_tries(vs))):
        made = add(label, make)
        tries += made or []
    toy = add("toy", lambda: toy_tries(vs))
    models = add("models", lambda: models_tries(vs))
    if toy:
        tries += toy[0]
    if models:
        tries += models[0]
        _, vae, dvae, x = models
        tries += add("train", lambda: train_tries(vs, vae, dvae, x, tmp)) or []
        if toy:
            tries += add("inference", lambda: inference_tries(vs, vae, x, toy[1])) or []
            tries += add("widgets", lambda: widgets_tries(vs, toy[1], vae)) or []
    return tries, skipped


CLEAR_TYPES = (ValueError, TypeError, FloatingPointError, ConnectionError, FileNotFoundError)


def classify(t: Try) -> tuple[str, str]:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = t.call()
    except Exception as e:  # noqa: BLE001 - classifying every failure is the point
        msg = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
        if t.check is not None:
            return "unclear", "raised where the answer is defined: " + msg
        named = any(re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", str(e)) for n in t.names)
        if isinstance(e, CLEAR_TYPES) and named and not _from_torch_internals(e):
            return "clear", msg
        return "unclear", msg + ("" if named else f"  [names none of {list(t.names)}]")
    if t.check is None:
        return "silent", f"returned {_short(out)} instead of raising"
    try:
        ok = bool(t.check(out))
    except Exception as e:  # noqa: BLE001
        ok = False
        out = f"{out!r} ({type(e).__name__} in the check)"
    return ("correct", "") if ok else ("silent", f"returned a wrong value: {_short(out)}")


def _from_torch_internals(e: BaseException) -> bool:
    """An IndexError/RuntimeError-like failure deep in torch, re-raised as is (not a checked message)."""
    return isinstance(e, (IndexError, RuntimeError)) and not isinstance(e, FloatingPointError)


def _short(v) -> str:
    s = repr(v).replace("\n", " ")
    return s[:120] + ("…" if len(s) > 120 else "")


def _worker(tries, start, conn):
    torch.set_num_threads(1)
    for i in range(start, len(tries)):
        conn.send((i, classify(tries[i])))
    conn.close()


def run(tries: list[Try], timeout: float) -> list[tuple[str, str]]:
    ctx = mp.get_context("fork")
    results: list = [None] * len(tries)
    i = 0
    while i < len(tries):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(tries, i, child), daemon=True)
        proc.start()
        child.close()
        while i < len(tries):
            if parent.poll(timeout):
                try:
                    j, outcome = parent.recv()
                except EOFError:  # the worker died (a crash inside a native library)
                    results[i] = ("unclear", f"the process died (exit code {proc.exitcode})")
                    i += 1
                    break
                results[j] = outcome
                i = j + 1
            else:
                results[i] = ("hang", f"still running after {timeout:g} s")
                i += 1
                break
        proc.kill()
        proc.join()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call before it counts as a hang")
    parser.add_argument("--verbose", action="store_true", help="also list the clear errors and correct values")
    args = parser.parse_args(argv)
    urls = start_servers()
    with tempfile.TemporaryDirectory() as tmp:
        tries, skipped = build(Path(tmp), urls)
        t0 = time.perf_counter()
        results = run(tries, args.timeout)
        seconds = time.perf_counter() - t0
    kinds = ("clear", "correct", "unclear", "silent", "hang")
    per_module = collections.defaultdict(collections.Counter)
    for t, (kind, _) in zip(tries, results):
        per_module[t.module][kind] += 1
    print(f"{'module':<14}" + "".join(f"{k:>9}" for k in kinds) + f"{'tries':>9}")
    total = collections.Counter()
    for module in sorted(per_module):
        c = per_module[module]
        total.update(c)
        print(f"{module:<14}" + "".join(f"{c[k]:>9}" for k in kinds) + f"{sum(c.values()):>9}")
    n = sum(total.values())
    print(f"{'total':<14}" + "".join(f"{total[k]:>9}" for k in kinds) + f"{n:>9}")
    errors = n - total["correct"]
    print(f"\n{n} tries in {seconds:.0f} s: {total['clear']} clear errors, {total['unclear']} unclear errors "
          f"({100 * total['unclear'] / max(n, 1):.1f} % of tries), {total['silent']} silently wrong, {total['hang']} hangs, "
          f"{total['correct']} defined values returned right ({errors} error tries).")
    if skipped:
        print(f"\nSkipped (not in this version of the package): {len(skipped)} groups")
        for s in skipped:
            print("  " + s)
    print()
    for t, (kind, detail) in zip(tries, results):
        if kind in ("unclear", "silent", "hang") or args.verbose:
            print(f"[{kind:>7}] {t.module}: {t.label} -> {detail}")
    return 0 if total["silent"] == 0 and total["hang"] == 0 and total["unclear"] <= 0.05 * n else 1


if __name__ == "__main__":
    sys.exit(main())
