"""Time of one optimizer step on the Digits benchmark's VAE: ``python benchmarks/optimizer_step.py``.

Compares torch's three implementations of the same update — the per-parameter loop (PyTorch's
default on CPU), multi-tensor ``foreach`` and the ``fused`` kernel — for the optimizers that
``vae_support.train.fit`` offers. Prints one JSON line per optimizer with the median over
``--rounds`` rounds of the mean step time in microseconds (CPU seconds, one thread unless
``--threads``), and which implementation ``fit`` picks (``train._make_optimizer``).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from digits_vae import build_model  # noqa: E402
from vae_support.train import OPTIMIZERS, TrainConfig, _make_optimizer  # noqa: E402

IMPLEMENTATIONS = {"loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}


def step_microseconds(optimizer: torch.optim.Optimizer, steps: int, rounds: int) -> float:
    """Median over rounds of the mean CPU time of ``optimizer.step()``, in µs (the gradients stay fixed)."""
    optimizer.step()  # allocate the state
    means = []
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(steps):
            optimizer.step()
        means.append((time.process_time() - t) / steps * 1e6)
    return statistics.median(means)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for name, cls in OPTIMIZERS.items():
        model = build_model()
        for p in model.parameters():
            p.grad = torch.randn_like(p)
        row = {"optimizer": name}
        for impl, options in IMPLEMENTATIONS.items():
            try:
                optimizer = cls(model.parameters(), lr=1e-6, **options)
            except (RuntimeError, TypeError):  # no fused kernel for this optimizer
                row[f"{impl}_us"] = None
                continue
            row[f"{impl}_us"] = round(step_microseconds(optimizer, args.steps, args.rounds), 1)
        group = _make_optimizer(model, TrainConfig(optimizer=name, progress=False)).param_groups[0]
        row["fit_uses"] = "fused" if group.get("fused") else "foreach"
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
