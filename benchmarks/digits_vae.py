"""Digits VAE benchmark: ``python benchmarks/digits_vae.py --seeds 3 [--encoder iaf]``.

Protocol (issue 3): scikit-learn's Digits with the fixed split train 1000 / val 350 / test 447
(file order); encoder 64-256-256-2L and decoder L-256-256-(64×17) with LeakyReLU, L = 16,
categorical likelihood over 17 levels, standard normal prior, early stopping on the validation
ELBO with patience 20 (the best epoch's weights are kept). The training recipe is the
``RECIPE`` below.

``--encoder`` picks the family of q on the same protocol and recipe (``VAE(encoder=...)``):
``diagonal`` (the protocol's, default), ``full`` (full-covariance Gaussian), ``planar`` or
``iaf`` (a diagonal Gaussian through ``--flow-length`` flow layers, :mod:`vae_support.flows`;
IAF's MADE has ``--flow-hidden`` units). A flow's KL is the Monte Carlo one. The throughput
ratios compare ``fit`` with a hand-written diagonal-Gaussian loop, so they are measured for
``diagonal`` only (``null`` otherwise).

One JSON line per seed, then one with the medians over seeds, with keys

* ``test_neg_elbo`` — −ELBO on the test set, nats per image, each image's ELBO averaged over
  10 draws of z (``model.elbo(x, k=10)``);
* ``test_nll_is`` — −log p(x) by importance sampling with K = 1000
  (``bounds.estimate_log_likelihood``), nats per image;
* ``epochs`` — epochs run until early stopping;
* ``wall_s`` — seconds of ``fit`` (training and the per-epoch validation, until it stops);
  ``cpu_s`` — the CPU seconds of the same (with one thread, what ``wall_s`` is on an idle machine);
* ``fit_vs_plain_throughput`` — training images per second of ``train.fit`` divided by those of
  a plain PyTorch loop (hand-written reparameterized ELBO, the same model, batches and per-epoch
  validation pass, the same augmentation and weight average, and ``torch.optim.AdamW`` with
  PyTorch's defaults), both timed in CPU seconds in this run on fresh copies of the model over
  ``--throughput-epochs`` epochs, interleaved, best of ``--throughput-repeats`` rounds. ``fit``
  also keeps the history and the NaN guard, all counted against it; it steps with torch's
  fused AdamW kernel, which is part of what it offers;
* ``fit_vs_plain_fused_throughput`` — the same ratio with the plain loop given that fused AdamW
  too: what ``fit``'s distributions, bookkeeping and checks cost, the optimizer set aside.

Also printed: ``is_seconds`` (time of the K = 1000 importance-sampling estimate on the 447 test
images), ``best_epoch``, ``threads``.
"""
from __future__ import annotations

import argparse
import copy
import functools
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae_support.bounds import estimate_log_likelihood  # noqa: E402
from vae_support.data import load_digits, random_shift  # noqa: E402
from vae_support.models import VAE  # noqa: E402
from vae_support.seeding import set_seed  # noqa: E402
from vae_support.train import TrainConfig, fit  # noqa: E402

LATENT = 16
RECIPE = dict(epochs=500, batch_size=100, optimizer="adamw", lr=2e-3, weight_decay=0.1, ema=0.99, patience=20,
              eval_k=1)
"""The training recipe (fields of ``TrainConfig``); patience 20 is the protocol's."""
DECODER_DROPOUT = 0.3
"""Dropout after the decoder's hidden layers (training mode only; no parameters added)."""
AUGMENT = functools.partial(random_shift, max_shift=1, p=0.25)
"""Training batches: a quarter of the images moved by up to one pixel (zero fill)."""


def build_model(encoder: str = "diagonal", flow_length: int = 4, flow_hidden: int = 64) -> VAE:
    """The protocol's model: 64-256-256-(q's parameters) encoder, L-256-256-(64×17) decoder, LeakyReLU."""
    return VAE(x_dim=64, z_dim=LATENT, hidden=(256, 256), likelihood="categorical", levels=17, prior="standard",
               encoder=encoder, flow_length=flow_length, flow_hidden=flow_hidden, activation="leaky_relu",
               decoder_dropout=DECODER_DROPOUT)


def plain_epoch(model: VAE, optimizer, x: torch.Tensor, x_val: torch.Tensor, batch_size: int,
                average: list[torch.Tensor], decay: float) -> float:
    """One epoch of a hand-written PyTorch loop on the same model and recipe.

    Reparameterized ELBO with the closed-form KL, the same augmentation, and the same moving
    average of the weights (``average``, updated in place after every step), so that the ratio
    measures what ``fit`` costs, not what the recipe costs.
    """

    def neg_elbo(xb):
        h = model.encoder(xb / 16)
        mu, logvar = h[:, :LATENT], h[:, LATENT:]
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        logits = model.decoder(z).view(-1, 64, 17)
        rec = torch.log_softmax(logits, -1).gather(-1, xb.long().unsqueeze(-1)).squeeze(-1).sum(-1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1)
        return -(rec - kl)

    model.train()
    for idx in torch.randperm(len(x)).split(batch_size):
        loss = neg_elbo(AUGMENT(x[idx])).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        torch._foreach_lerp_(average, [p.detach() for p in model.parameters()], 1.0 - decay)
    model.eval()
    with torch.no_grad():
        return float(-neg_elbo(x_val).mean())


def throughput_ratios(digits, config: TrainConfig, epochs: int, repeats: int) -> tuple[float, float]:
    """Images/s of ``fit`` over images/s of :func:`plain_epoch`: (torch's default AdamW, fused AdamW).

    Fresh copies of one model, timed in CPU seconds, interleaved rounds, best of ``repeats``.
    """
    x, x_val = digits.train.x, digits.val.x
    set_seed(123)
    base = build_model()
    times = {"fit": [], "default": [], "fused": []}
    for _ in range(repeats):
        model = copy.deepcopy(base)
        t = time.process_time()
        fit(model, digits.train, digits.val, config, epochs=epochs, patience=None, augment=AUGMENT)
        times["fit"].append(time.process_time() - t)
        for kind, options in (("default", {}), ("fused", {"fused": True})):
            model = copy.deepcopy(base)
            optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                          **options)
            average = [p.detach().clone() for p in model.parameters()]
            t = time.process_time()
            for _ in range(epochs):
                plain_epoch(model, optimizer, x, x_val, config.batch_size, average, config.ema)
            times[kind].append(time.process_time() - t)
    fit_time = min(times["fit"])
    return min(times["default"]) / fit_time, min(times["fused"]) / fit_time


def run_seed(seed: int, digits, args) -> dict:
    config = TrainConfig(seed=seed, progress=False, **RECIPE)
    set_seed(seed)
    model = build_model(args.encoder, args.flow_length, args.flow_hidden)
    t, cpu = time.perf_counter(), time.process_time()
    history = fit(model, digits.train, digits.val, config, augment=AUGMENT)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    x_test = digits.test.x
    with torch.no_grad():
        torch.manual_seed(seed)
        neg_elbo = float(-model.elbo(x_test, k=10).mean())
        t = time.perf_counter()
        nll = float(-estimate_log_likelihood(model, x_test, k=1000).mean())
        is_seconds = time.perf_counter() - t
    ratio = ratio_fused = None
    if args.encoder == "diagonal" and args.throughput_epochs > 0:
        ratio, ratio_fused = throughput_ratios(digits, config, args.throughput_epochs, args.throughput_repeats)
    return {"seed": seed, "encoder": args.encoder, "test_neg_elbo": neg_elbo, "test_nll_is": nll, "epochs": history.n_epochs,
            "best_epoch": history.best_epoch, "wall_s": wall, "cpu_s": cpu, "fit_vs_plain_throughput": ratio,
            "fit_vs_plain_fused_throughput": ratio_fused, "is_seconds": is_seconds,
            "threads": torch.get_num_threads()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, …)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: fastest for this small MLP, and steady on a busy machine)")
    parser.add_argument("--encoder", choices=("diagonal", "full", "planar", "iaf"), default="diagonal",
                        help="family of q (default: the protocol's diagonal Gaussian)")
    parser.add_argument("--flow-length", type=int, default=4, help="flow layers (planar, iaf)")
    parser.add_argument("--flow-hidden", type=int, default=64, help="MADE hidden units (iaf)")
    parser.add_argument("--throughput-epochs", type=int, default=5, help="0 skips the throughput ratios")
    parser.add_argument("--throughput-repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds: expected at least 1")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    digits = load_digits()
    rows = []
    for seed in range(args.seeds):
        rows.append(run_seed(seed, digits, args))
        print(json.dumps(rows[-1]), flush=True)
    keys = ("test_neg_elbo", "test_nll_is", "epochs", "wall_s", "cpu_s", "fit_vs_plain_throughput",
            "fit_vs_plain_fused_throughput", "is_seconds")
    print(json.dumps({"median": True, "encoder": args.encoder, "seeds": args.seeds, "threads": torch.get_num_threads(),
                      **{k: None if rows[0][k] is None else statistics.median(r[k] for r in rows) for k in keys}}),
          flush=True)


if __name__ == "__main__":
    main()
