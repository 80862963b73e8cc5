r"""Training: :func:`fit` with a :class:`TrainConfig`, a per-epoch :class:`History`, safe checkpoints.

Objectives (``TrainConfig.objective``), each maximized in expectation over mini-batches:

* ``"elbo"`` — the β-weighted ELBO with reparameterized samples and the closed-form KL when one
  exists (book equations ``eq-elbo-decomposition``, ``eq-beta-elbo``), with optional KL warm-up
  (the KL weight grows linearly per optimizer step from 0 at the first step to β at the end of
  epoch ``warmup_epochs``, see :func:`kl_weight`; Bowman et al., 2016; Sønderby et al., 2016)
  and free bits (each latent coordinate's batch-averaged KL is floored at ``free_bits`` nats;
  Kingma et al., 2016);
* ``"iwae"`` — the importance-weighted bound :math:`\mathcal L_K` (``eq-iwae``) with K = ``k``;
* ``"vimco"`` — :math:`\mathcal L_K` with the VIMCO score-function estimator, for models whose
  latents cannot be reparameterized (:class:`vae_support.models.DiscreteVAE`).

Seeds: :func:`over_seeds` / :func:`train_over_seeds` run one configuration over several seeds
(mean ± sample sd of each metric); :func:`paired_difference` compares two configurations seed by
seed and says whether the difference is within the seed-to-seed noise.

Safety: inputs are checked once before training (and each augmented batch against the
likelihood's support); a non-finite loss or gradient stops training with
:class:`NonFiniteLossError` naming the epoch and step, *before* the optimizer step, and leaves the
model at its last good weights. "Good" means: the weights before the failing step when they are
finite, not :data:`EXPLOSION_FACTOR` × larger than at the start of the last sane epoch, and give a
finite loss on the previous mini-batch (a NaN in the data or the forward pass); otherwise — a
huge learning rate whose steps exploded the weights before the loss overflowed — the weights at
the start of the latest epoch that began sane (see :class:`_GoodWeights`).

Checkpoints (format version 2) hold only tensors and plain Python values and load with
``torch.load(weights_only=True)``. They are written atomically (a temporary file in the same
folder, ``fsync``, ``os.replace``), so an interrupted write leaves the previous checkpoint whole;
they store the SHA-256 of their payload, verified on load (flipped or truncated bytes raise
:class:`CheckpointError`), and the model's class and constructor configuration and the
optimizer, checked when resuming. A checkpoint without checksum (older versions) is refused with
a message saying so.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import io
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.distributions import Independent
from tqdm.auto import tqdm

from . import bounds, gradients
from ._checks import as_tensor, check_finite, check_integer, check_nonnegative_scalar, check_not_empty, check_real
from .models import ForwardPass, LatentVariableModel, kl_per_dimension
from .seeding import set_seed

OBJECTIVES = ("elbo", "iwae", "vimco")
OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
              "rmsprop": torch.optim.RMSprop}
ACTIVE_UNIT_THRESHOLD = 1e-2
"""A latent coordinate is active when :math:`\\operatorname{Cov}_x(\\mathbb E_q[z_j]) > 0.01` (Burda et al., 2016)."""


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN/inf loss or gradient; ``.epoch`` and ``.step`` say where, ``.history`` what came before."""

    def __init__(self, message: str, epoch: int, step: int, history: "History"):
        super().__init__(message)
        self.epoch, self.step, self.history = epoch, step, history


@dataclass
class TrainConfig:
    r"""Everything :func:`fit` needs to know; plain values only, so it is saved in checkpoints.

    Attributes
    ----------
    epochs : int
        Maximum number of passes over the training set.
    batch_size : int
        Images per optimizer step (the last batch of an epoch may be smaller).
    optimizer : {"adam", "adamw", "sgd", "rmsprop"}
    lr : float
        Learning rate.
    weight_decay : float
        L2 penalty (decoupled for ``adamw``).
    lr_decay : float
        Learning-rate multiplier applied after each epoch (1 = constant).
    seed : int
        Seeds Python, NumPy and torch at the start of training (mini-batch order and samples).
    objective : {"elbo", "iwae", "vimco"}
    k : int
        Samples per data point: ELBO averaged over k draws, or K of the IWAE / VIMCO bound.
    beta : float
        Weight of the KL term (``"elbo"`` only; 1 = the ELBO).
    warmup_epochs : int
        KL warm-up (0 = off): the KL weight grows linearly *per optimizer step*, from 0 at the
        first step to β after ``warmup_epochs`` epochs, then stays at β:
        :math:`\beta_s = \beta \min(1, s / (W S))` for the 0-based global step s, W =
        ``warmup_epochs`` and S steps per epoch (:func:`kl_weight`). The first steps thus
        train with almost no KL (a reconstruction-only phase), as in Bowman et al. (2016).
        ``History.beta`` records each epoch's mean weight.
    free_bits : float
        Floor, in nats, of each latent coordinate's batch-averaged KL (0 = off).
    patience : int or None
        Early stopping: stop after this many epochs without a better validation ELBO (needs
        ``val``); the best weights are restored at the end. ``None`` = off.
    grad_clip : float or None
        Clip the gradient's global norm to this value.
    ema : float or None
        Polyak averaging: keep an exponential moving average of the weights,
        :math:`\bar\theta \leftarrow \text{ema}\,\bar\theta + (1-\text{ema})\,\theta` after every
        step; validation, early stopping and the returned model use the averaged weights.
        ``None`` = off.
    eval_k : int
        Samples per point for the validation ELBO.
    eval_seed : int or None
        Seed of the validation draws, the same at every epoch (common random numbers: the
        epoch-to-epoch change of the validation ELBO is the model's, not sampling noise, so
        early stopping picks a better epoch). The training random stream is left untouched.
        ``None`` = draw from the training stream.
    device : str or None
        Where to train (``"cpu"``, ``"cuda"``); ``None`` = where the model already is.
    threads : int or None
        CPU threads for torch during training (restored afterwards). One thread is the fastest
        for the course's small MLPs and avoids a 10× slowdown when the cores are busy;
        ``None`` = leave torch's setting.
    progress : bool
        Show a ``tqdm.auto`` progress bar.
    checkpoint : str or None
        File to save (weights, optimizer, config, history) after every epoch.
    """

    epochs: int = 100
    batch_size: int = 100
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_decay: float = 1.0
    seed: int = 0
    objective: str = "elbo"
    k: int = 1
    beta: float = 1.0
    warmup_epochs: int = 0
    free_bits: float = 0.0
    patience: int | None = None
    grad_clip: float | None = None
    ema: float | None = None
    eval_k: int = 1
    eval_seed: int | None = 0
    device: str | None = None
    threads: int | None = None
    progress: bool = True
    checkpoint: str | None = None

    def __post_init__(self):
        self.validate()

    def validate(self) -> "TrainConfig":
        """Raise ``ValueError`` naming the first invalid field."""
        for name in ("epochs", "batch_size", "k", "eval_k"):
            setattr(self, name, check_integer(name, getattr(self, name)))
        self.warmup_epochs = check_integer("warmup_epochs", self.warmup_epochs, minimum=0)
        self.seed = check_integer("seed", self.seed, minimum=0)
        for name in ("lr", "weight_decay", "beta", "free_bits", "lr_decay"):
            setattr(self, name, check_nonnegative_scalar(name, getattr(self, name)))
        if self.lr <= 0:
            raise ValueError(f"lr: expected a positive learning rate, got {self.lr!r}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay: expected a number in (0, 1], got {self.lr_decay!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective: expected one of {list(OBJECTIVES)}, got {self.objective!r}")
        if self.objective == "vimco" and self.k < 2:
            raise ValueError(f"k: the vimco objective needs k >= 2, got {self.k}")
        if self.objective != "elbo" and (self.beta != 1 or self.warmup_epochs or self.free_bits):
            raise ValueError(f"objective: beta, warmup_epochs and free_bits apply to 'elbo' only, not {self.objective!r}")
        if self.patience is not None:
            self.patience = check_integer("patience", self.patience)
        if self.eval_seed is not None:
            self.eval_seed = check_integer("eval_seed", self.eval_seed, minimum=0)
        if self.threads is not None:
            self.threads = check_integer("threads", self.threads)
        if self.ema is not None and not 0 <= float(self.ema) < 1:
            raise ValueError(f"ema: expected a decay in [0, 1) or None, got {self.ema!r}")
        if self.grad_clip is not None and not float(self.grad_clip) > 0:
            raise ValueError(f"grad_clip: expected a positive number or None, got {self.grad_clip!r}")
        if self.device is not None and not isinstance(self.device, str):
            raise ValueError(f"device: expected a string such as 'cpu' or 'cuda', or None, got {self.device!r}")
        return self


@dataclass
class History:
    """Per-epoch records of :func:`fit` (one list entry per epoch; nats per image).

    ``train_*`` are averages over the epoch's mini-batches (computed during the steps, at the
    weights of each step); ``val_*`` are evaluated at the end of the epoch. ``*_kl_per_dim``
    holds one list of z_dim values per epoch (empty lists when the prior does not factorize);
    ``*_active_units`` counts coordinates with :math:`\\operatorname{Cov}_x(\\mathbb E_q[z_j]) > 0.01`.
    ``train_objective`` is the value of the maximized objective (β-ELBO, or the IWAE bound
    :math:`\\mathcal L_K` for ``"iwae"`` and ``"vimco"``; never a gradient surrogate's value).
    """

    epoch: list = field(default_factory=list)
    train_elbo: list = field(default_factory=list)
    train_reconstruction: list = field(default_factory=list)
    train_kl: list = field(default_factory=list)
    train_kl_per_dim: list = field(default_factory=list)
    train_active_units: list = field(default_factory=list)
    train_objective: list = field(default_factory=list)
    val_elbo: list = field(default_factory=list)
    val_reconstruction: list = field(default_factory=list)
    val_kl: list = field(default_factory=list)
    val_kl_per_dim: list = field(default_factory=list)
    val_active_units: list = field(default_factory=list)
    beta: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def __getitem__(self, key: str):
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of lists (safe for ``torch.save`` / ``weights_only`` loading and JSON)."""
        return dataclasses.asdict(self)

    @property
    def n_epochs(self) -> int:
        """Epochs run so far."""
        return len(self.epoch)


@dataclass(frozen=True)
class Evaluation:
    """Averages over a data set (nats per image) of one model evaluation; see :func:`evaluate`."""

    elbo: float
    reconstruction: float
    kl: float
    kl_per_dim: list
    active_units: int


def active_units(q_means: torch.Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    r"""Number of active latent coordinates, :math:`\#\{j : \operatorname{Cov}_x(\mathbb E_q[z_j|x]) > \text{threshold}\}`.

    (Burda et al., 2016.) An inactive coordinate's posterior mean ignores x: the coordinate
    carries no information, the signature of posterior collapse.

    Parameters
    ----------
    q_means : Tensor [n, z_dim]
        :math:`\mathbb E_q[z|x_i]` for n ≥ 2 data points.
    threshold : float

    Returns
    -------
    int
    """
    q_means = check_finite("q_means", as_tensor("q_means", q_means))
    if q_means.dim() != 2 or q_means.shape[0] < 2:
        raise ValueError(f"q_means: expected shape [n >= 2, z_dim], got {tuple(q_means.shape)}")
    return int((q_means.var(0) > threshold).sum())


class _Accumulator:
    """Sums per-point ELBO terms over an epoch as tensors (no per-step sync); ``result()`` averages them."""

    NAMES = ("elbo", "reconstruction", "kl", "objective")

    def __init__(self):
        self.n = 0
        self.sums: torch.Tensor | float = 0.0  # [4]: the NAMES, summed over points
        self.kl_dims = None
        self.means: list[torch.Tensor] = []

    @torch.no_grad()  # bookkeeping only: no autograd graph grows across the epoch
    def add(self, terms: bounds.ElboTerms, kl_dims: torch.Tensor | None, q_mean: torch.Tensor, objective=None):
        self.n += terms.elbo.shape[0]
        objective = torch.zeros_like(terms.elbo) if objective is None else objective.detach()
        self.sums = self.sums + torch.stack((terms.elbo, terms.reconstruction, terms.kl, objective)).sum(1)
        if kl_dims is not None:
            s = kl_dims.sum(0)
            self.kl_dims = s if self.kl_dims is None else self.kl_dims + s
        self.means.append(q_mean.detach())

    def mean(self, name: str) -> float:
        return float(self.sums[self.NAMES.index(name)]) / self.n

    def result(self) -> Evaluation:
        kl_dims = [] if self.kl_dims is None else (self.kl_dims / self.n).tolist()
        means = torch.cat(self.means)
        units = active_units(means) if len(means) > 1 else 0
        return Evaluation(self.mean("elbo"), self.mean("reconstruction"), self.mean("kl"), kl_dims, units)


def _q_mean(f: ForwardPass) -> torch.Tensor:
    r""":math:`\mathbb E_q[z|x]` [batch, z_dim]; for a q without a closed-form mean (a flow), the average of the pass's samples."""
    try:
        return f.q.mean
    except NotImplementedError:
        return f.z.mean(0)


def _terms(f: ForwardPass, kl_dims_grad: bool = False) -> tuple[bounds.ElboTerms, torch.Tensor | None]:
    r"""ELBO terms and the per-coordinate KL of one forward pass, the KL computed once.

    When q factorizes over coordinates (diagonal Gaussian, Bernoulli) and the prior does too,
    :math:`\mathrm{KL}(q\|p) = \sum_j \mathrm{KL}(q_j\|p_j)`: the total is the sum of the
    per-coordinate KLs, which carry gradients. Otherwise the terms come from
    :func:`vae_support.bounds.elbo_terms` and the per-coordinate KL (of q's marginals) carries
    gradients only if asked (free bits). No finiteness check here: :func:`fit` checks the loss.
    """
    factorized = isinstance(f.q, Independent) and f.q.reinterpreted_batch_ndims == 1
    with torch.set_grad_enabled(torch.is_grad_enabled() and (factorized or kl_dims_grad)):
        kl_dims = kl_per_dimension(f.q, f.prior)
    if factorized and kl_dims is not None:
        reconstruction = f.log_px_z.mean(0)
        kl = kl_dims.sum(-1)
        return bounds.ElboTerms(reconstruction, kl, reconstruction - kl), kl_dims
    return bounds.elbo_terms(f.log_px_z, f.q, f.prior, f.z), kl_dims


@torch.no_grad()
def evaluate(model: LatentVariableModel, x, k: int = 1, batch_size: int = 1000) -> Evaluation:
    """ELBO, reconstruction, KL (total and per coordinate) and active units of ``model`` on ``x``.

    Averages over the data points (nats per image) of :meth:`~vae_support.models.VAE.elbo_terms`
    with ``k`` draws each; active units use every point's :math:`\\mathbb E_q[z|x]`.

    Parameters
    ----------
    model : VAE or DiscreteVAE
    x : Tensor [n, x_dim] or Split
    k : int
    batch_size : int
        Points per forward pass (memory only; the result does not depend on it).
    """
    x = check_not_empty("x", model.check_x(_as_x("x", x).to(model.device)), 0, "image")
    return _evaluate(model, x, check_integer("k", k), check_integer("batch_size", batch_size))


@torch.no_grad()
def _evaluate(model: LatentVariableModel, x: torch.Tensor, k: int, batch_size: int) -> Evaluation:
    was_training = model.training
    model.eval()
    acc = _Accumulator()
    for xb in x.split(batch_size):
        f = model.forward_pass(xb, k, check=False, densities=False)
        terms, kl_dims = _terms(f)
        acc.add(terms, kl_dims, _q_mean(f))
    model.train(was_training)
    return acc.result()


def _validate(model: LatentVariableModel, x_val: torch.Tensor, config: TrainConfig) -> Evaluation:
    """Validation pass of :func:`fit`, with the fixed ``eval_seed`` stream if one is set."""
    if config.eval_seed is None:
        return _evaluate(model, x_val, config.eval_k, 1000)
    devices = [x_val.device] if x_val.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(config.eval_seed)
        return _evaluate(model, x_val, config.eval_k, 1000)


def _as_x(name: str, data) -> torch.Tensor:
    x = getattr(data, "x", data)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor [n, x_dim] or a data.Split, got {type(data).__name__}")
    return x


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimizer steps in one epoch of ``n`` images: ``ceil(n / batch_size)`` (the last batch may be smaller)."""
    n = check_integer("n", n)
    batch_size = check_integer("batch_size", batch_size)
    return -(-n // batch_size)


def kl_weight(config: TrainConfig, step: int, n_steps_per_epoch: int) -> float:
    r"""KL weight at optimizer step ``step`` (0-based, counted over all epochs): the warm-up ramp.

    .. math:: \beta_s = \beta \, \min\!\left(1, \frac{s}{W S}\right),

    with W = ``config.warmup_epochs`` and S = ``n_steps_per_epoch``; without warm-up (W = 0)
    the weight is β at every step. The first step has weight 0, the weight reaches β at step
    W·S (the first step after the warm-up epochs) and grows by β/(W·S) per step in between.

    Parameters
    ----------
    config : TrainConfig
        Supplies ``beta`` and ``warmup_epochs``.
    step : int
        Global optimizer step, 0-based (step s of epoch e, both 1-based, is (e − 1)·S + s − 1).
    n_steps_per_epoch : int
        S, from :func:`steps_per_epoch`.

    Returns
    -------
    float
        The weight of the KL term at that step.
    """
    step = check_integer("step", step, minimum=0)
    n_steps_per_epoch = check_integer("n_steps_per_epoch", n_steps_per_epoch)
    if config.warmup_epochs == 0:
        return config.beta
    return config.beta * min(1.0, step / (config.warmup_epochs * n_steps_per_epoch))


def _loss(model: LatentVariableModel, xb: torch.Tensor, config: TrainConfig, beta: float, acc: _Accumulator):
    """Mean over the batch of the negative objective; records the batch's ELBO terms in ``acc``."""
    reparam = config.objective != "vimco"
    f = model.forward_pass(xb, config.k, check=False, reparameterize=reparam, densities=config.objective != "elbo")
    try:
        terms, kl_dims = _terms(f, kl_dims_grad=config.free_bits > 0)
    except ValueError:
        if all(t is None or bool(torch.isfinite(t).all()) for t in f[3:]):
            raise
        return torch.tensor(float("nan"))  # non-finite log-densities: fit's NaN guard reports them
    if config.objective == "elbo":
        kl = terms.kl
        if config.free_bits > 0:
            if kl_dims is None:
                raise ValueError("free_bits: needs a prior that factorizes over latent coordinates (prior='standard')")
            kl = kl_dims.mean(0).clamp(min=config.free_bits).sum().expand_as(kl)
        objective = terms.reconstruction - beta * kl
    else:
        try:
            log_w = bounds.log_weights(f.log_px_z, f.log_pz, f.log_qz_x)
        except ValueError:
            return torch.tensor(float("nan"))  # only the log-densities' finiteness is checked there
        surrogate = gradients.iwae_surrogate(log_w) if reparam else gradients.vimco_surrogate(log_w, f.log_qz_x)
        acc.add(terms, kl_dims, _q_mean(f), bounds.iwae_bound(log_w.detach()))  # the bound, not the surrogate
        return -surrogate.mean()
    acc.add(terms, kl_dims, _q_mean(f), objective)
    return -objective.mean()


def _checkpoint_payload(model, optimizer, config, history, epoch, best_state, best_val, bad_epochs, ema=None) -> dict:
    return {
        "ema": ema,
        "model_class": type(model).__name__,
        "model_kwargs": dict(model.hparams),
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict(),
        "config": dataclasses.asdict(config),
        "history": history.as_dict(),
        "epoch": epoch,
        "best_state": best_state,
        "best_val": best_val,
        "bad_epochs": bad_epochs,
        "rng_state": torch.get_rng_state(),
        "optimizer_class": type(optimizer).__name__,
    }


CHECKPOINT_FORMAT = "vae_support.checkpoint"
CHECKPOINT_VERSION = 2
"""Version 2: the payload's bytes with their SHA-256, the model's constructor configuration and the optimizer's type."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be trusted or does not fit: corrupted, truncated, from an older version, or mismatched."""


def _serialize(payload: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never a mix.

    A temporary file in the same folder is written and flushed to disk (``fsync``), then renamed
    over ``path`` with ``os.replace`` (atomic on POSIX and Windows); the folder is synced too, so
    the rename survives a power cut. An interrupted write leaves the previous checkpoint intact.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _write_checkpoint(path, payload: dict) -> Path:
    """Wrap ``payload`` with its SHA-256 and write it atomically (see :func:`load_checkpoint`)."""
    data = _serialize(payload)
    envelope = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                "sha256": hashlib.sha256(data).hexdigest(),
                "payload": torch.frombuffer(bytearray(data), dtype=torch.uint8)}
    path = Path(path)
    _write_atomically(path, _serialize(envelope))
    for stale in path.parent.glob(path.name + ".*.tmp"):  # left by a writer killed before its rename
        with contextlib.suppress(OSError):
            stale.unlink()
    return path


def save_checkpoint(path, model: LatentVariableModel, optimizer=None, config: TrainConfig | None = None,
                    history: History | None = None, epoch: int = 0) -> Path:
    """Save weights (and optimizer, config, history) to ``path`` atomically, with a SHA-256 checksum.

    The file loads with ``torch.load(weights_only=True)`` (no code is unpickled); read it with
    :func:`load_checkpoint`, which verifies the checksum.
    """
    if not isinstance(model, LatentVariableModel):
        raise TypeError(f"model: expected a vae_support.models model, got {type(model).__name__}")
    config = config or TrainConfig(progress=False)
    optimizer = optimizer or _make_optimizer(model, config)
    return _write_checkpoint(path, _checkpoint_payload(model, optimizer, config, history or History(), epoch,
                                                        None, None, 0))


def _open_envelope(path: Path) -> dict:
    try:
        envelope = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # weights_only met something other than tensors and plain values
        raise CheckpointError(f"path: {path} holds objects other than tensors and plain values (corrupted, or not "
                              f"a vae_support checkpoint); refused without running them") from err
    except Exception as err:  # a truncated or scrambled file fails inside torch's zip reader
        raise CheckpointError(f"path: {path} is not a readable checkpoint (truncated or corrupted: "
                              f"{type(err).__name__})") from err
    if not isinstance(envelope, dict) or envelope.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"path: {path} has no checksum: it was written by an older version of vae_support "
                              f"(or is not a vae_support checkpoint); retrain, or re-save it with save_checkpoint")
    if envelope.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"path: {path} is checkpoint version {envelope.get('version')!r}; this vae_support "
                              f"reads version {CHECKPOINT_VERSION}")
    return envelope


def load_checkpoint(path) -> dict:
    """Load a checkpoint dict, verifying its SHA-256; no code is unpickled (``weights_only=True``).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    CheckpointError
        (a ``ValueError``) the file is truncated, its bytes do not match the stored checksum,
        or it was written by an older version of vae_support (no checksum).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no checkpoint at {path}")
    envelope = _open_envelope(path)
    data = envelope["payload"].numpy().tobytes() if isinstance(envelope.get("payload"), torch.Tensor) else b""
    if hashlib.sha256(data).hexdigest() != envelope.get("sha256"):
        raise CheckpointError(f"path: {path} is corrupted: its SHA-256 does not match the stored checksum")
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _model_from_checkpoint(ckpt: dict) -> LatentVariableModel:
    from . import models

    cls = {"VAE": models.VAE, "DiscreteVAE": models.DiscreteVAE}.get(ckpt["model_class"])
    if cls is None:
        raise CheckpointError(f"path: unknown model class {ckpt['model_class']!r} in the checkpoint")
    return cls(**ckpt["model_kwargs"])


def load_model(path) -> LatentVariableModel:
    """Rebuild the model saved in a checkpoint (its class and constructor configuration), with its weights."""
    ckpt = load_checkpoint(path)
    model = _model_from_checkpoint(ckpt)
    model.load_state_dict(ckpt["model_state"])
    return model


def _check_resume(ckpt: dict, model: LatentVariableModel, config: TrainConfig) -> None:
    """Raise :class:`CheckpointError` unless the checkpoint was written for this model class, configuration and optimizer."""
    if ckpt["model_class"] != type(model).__name__ or ckpt["model_kwargs"] != dict(model.hparams):
        differ = sorted(k for k in set(ckpt["model_kwargs"]) | set(model.hparams)
                        if ckpt["model_kwargs"].get(k) != model.hparams.get(k))
        raise CheckpointError(
            f"resume: the checkpoint holds a {ckpt['model_class']} built with a different configuration "
            f"(differs in {differ or ['class']}: checkpoint {[ckpt['model_kwargs'].get(k) for k in differ]}, "
            f"model {[model.hparams.get(k) for k in differ]})")
    saved = ckpt["config"].get("optimizer")
    if saved != config.optimizer:
        raise CheckpointError(f"resume: the checkpoint was trained with optimizer {saved!r}, the config asks for "
                              f"{config.optimizer!r}; resume with optimizer={saved!r}")


FUSED_OPTIMIZERS = ("adam", "adamw", "sgd")
"""Optimizers that torch implements as one fused kernel over all parameters (CPU and CUDA)."""


def _make_optimizer(model, config: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimizer in torch's fastest implementation for the model's parameters.

    Fused (one kernel updates every parameter) for Adam, AdamW and SGD where torch supports the
    parameters' device and dtype, else multi-tensor (``foreach``). On the Digits benchmark's VAE
    a fused AdamW step is several times faster than torch's default per-parameter loop on CPU
    (``benchmarks/optimizer_step.py``; numbers in ``benchmarks/README.md``). The implementations
    compute the same update; their float rounding differs in the last bits.
    """
    cls = OPTIMIZERS[config.optimizer]
    kwargs = dict(lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer in FUSED_OPTIMIZERS:
        try:
            return cls(model.parameters(), fused=True, **kwargs)
        except (RuntimeError, TypeError):  # no fused kernel for these parameters, or a torch without ``fused``
            pass
    return cls(model.parameters(), foreach=True, **kwargs)


def _grad_is_finite(params: list[torch.nn.Parameter], config: TrainConfig) -> bool:
    """True if the gradient's global norm is finite; clips it to ``config.grad_clip`` if set."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.nn.utils.get_total_norm(grads)
    if not torch.isfinite(norm):
        return False
    if config.grad_clip is not None:
        torch.nn.utils.clip_grads_with_norm_(params, float(config.grad_clip), norm)
    return True


class _Average:
    """Exponential moving average of a model's parameters (Polyak averaging), swapped in for evaluation."""

    def __init__(self, model, decay: float, state: list | None = None):
        self.params = list(model.parameters())
        self.values = [p.detach() for p in self.params]  # share storage: see every optimizer step
        self.decay = decay
        self.shadow = [p.detach().clone() for p in self.params] if state is None else [t.to(p.device) for t, p in zip(state, self.params)]

    @torch.no_grad()
    def update(self) -> None:
        torch._foreach_lerp_(self.shadow, self.values, 1.0 - self.decay)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the model's weights and the averaged ones (call twice to undo)."""
        for avg, p in zip(self.shadow, self.params):
            tmp = p.detach().clone()
            p.copy_(avg)
            avg.copy_(tmp)


EXPLOSION_FACTOR = 100.0
"""Weights whose largest magnitude grew more than this factor (above 1) within an epoch are taken as diverged."""


class _GoodWeights:
    r"""The last weights known to be good, at the start of an epoch: :func:`fit`'s "last good weights".

    When a loss or gradient turns non-finite, either the step's input was bad (a NaN in the data
    or the forward pass) and the current weights are fine, or earlier steps diverged: a huge
    learning rate leaves finite but exploded weights (:math:`|w|` up to 1e30) a step or more
    before the loss overflows. The current weights are kept when they are finite, give a finite
    loss on the previous mini-batch, and their largest magnitude is at most
    :data:`EXPLOSION_FACTOR` × max(1, that of the good weights); otherwise the model returns to
    the good weights. The good weights are those at the start of the latest epoch that began
    with sane weights (finite, not :data:`EXPLOSION_FACTOR` × larger than the previous good
    ones): an epoch that ends exploded but finite does not replace them. One copy and one
    maximum per epoch, a check only on failure: no cost per step.
    """

    def __init__(self, model, average: "_Average | None"):
        self.model, self.average = model, average
        self.state, self.shadow, self.epoch = None, None, 1

    def start_epoch(self, epoch: int) -> None:
        """Take the current weights as the good ones unless they exploded since the last good ones."""
        if self.state is not None and not self._sane(list(self.model.state_dict().values())):
            return
        self.state = copy.deepcopy(self.model.state_dict())
        self.shadow = None if self.average is None else [t.clone() for t in self.average.shadow]
        self.epoch = epoch

    @staticmethod
    def _largest(tensors) -> float:
        floats = [t.detach() for t in tensors if t.is_floating_point() and t.numel()]
        return max((float(t.abs().max()) for t in floats), default=0.0)

    def _sane(self, current: list) -> bool:
        if not all(bool(torch.isfinite(t).all()) for t in current if t.is_floating_point()):
            return False
        return self._largest(current) <= EXPLOSION_FACTOR * max(1.0, self._largest(self.state.values()))

    def _current_are_good(self, finite_on_previous_batch) -> bool:
        return self._sane(list(self.model.state_dict().values())) and finite_on_previous_batch()

    @torch.no_grad()
    def restore(self, finite_on_previous_batch) -> bool:
        """Restore the epoch's starting weights if the current ones diverged; return whether it did."""
        if self._current_are_good(finite_on_previous_batch):
            return False
        self.model.load_state_dict(self.state)
        if self.average is not None:
            for avg, saved in zip(self.average.shadow, self.shadow):
                avg.copy_(saved)
        return True

    def error(self, what: str, epoch: int, step: int, history: "History", finite_on_previous_batch) -> "NonFiniteLossError":
        """The :class:`NonFiniteLossError` to raise, after restoring the last good weights."""
        if self.restore(finite_on_previous_batch):
            kept = f"the weights had diverged: the model is restored to its weights at the start of epoch {self.epoch}"
        else:
            kept = "the model keeps its last good weights (those before this step)"
        return NonFiniteLossError(f"{what} at epoch {epoch}, step {step}; {kept}", epoch, step, history)


def _finite_loss_on(model: LatentVariableModel, xb: torch.Tensor | None, config: "TrainConfig", beta: float) -> bool:
    """Whether the model's loss on ``xb`` is finite (True without a batch); the random stream is left untouched."""
    if xb is None:
        return True
    devices = [xb.device] if xb.device.type == "cuda" else []
    with torch.no_grad(), torch.random.fork_rng(devices=devices):
        return bool(torch.isfinite(_loss(model, xb, config, beta, _Accumulator())))


def _checked_augment(model: LatentVariableModel, augment, xb: torch.Tensor) -> torch.Tensor:
    """``augment(xb)``, checked once per batch against the likelihood's support (a cheap test on the batch)."""
    out = augment(xb)
    if not isinstance(out, torch.Tensor) or out.shape != xb.shape:
        raise ValueError(f"augment: expected a tensor of shape {tuple(xb.shape)} (the batch's), got "
                         f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    return model.check_x(out, "augment(x_batch)")


def _record(history: History, split: str, ev: Evaluation) -> None:
    getattr(history, f"{split}_elbo").append(ev.elbo)
    getattr(history, f"{split}_reconstruction").append(ev.reconstruction)
    getattr(history, f"{split}_kl").append(ev.kl)
    getattr(history, f"{split}_kl_per_dim").append(ev.kl_per_dim)
    getattr(history, f"{split}_active_units").append(ev.active_units)


def fit(model: LatentVariableModel, train, val=None, config: TrainConfig | None = None, *,
        resume: str | None = None, augment=None, **overrides) -> History:
    r"""Train ``model`` in place by stochastic gradient ascent on ``config.objective``.

    Parameters
    ----------
    model : VAE or DiscreteVAE
    train : Tensor [n, x_dim] or data.Split
        Training images (checked once against the model's likelihood).
    val : Tensor [m, x_dim] or data.Split, optional
        Validation images: evaluated after every epoch (ELBO with ``config.eval_k`` draws);
        needed for early stopping.
    config : TrainConfig, optional
        Defaults to ``TrainConfig()``.
    resume : str, optional
        A checkpoint written by a previous ``fit`` (``config.checkpoint``): weights, optimizer,
        history, random state and early-stopping state are restored and training continues
        from the next epoch up to ``config.epochs``.
    augment : callable, optional
        Applied to every training mini-batch, ``augment(x_batch) -> x_batch`` (e.g.
        :func:`vae_support.data.random_shift`); its output must stay in the likelihood's support.
        Not saved in checkpoints: pass it again when resuming.
    **overrides
        Fields of :class:`TrainConfig` replacing those of ``config``
        (``fit(model, x, epochs=20, progress=False)``).

    Returns
    -------
    History
        Per-epoch train / validation ELBO, reconstruction, KL, KL per latent coordinate and
        active units (nats per image).

    Raises
    ------
    NonFiniteLossError
        A NaN/inf loss or gradient: names the epoch and step; the model keeps its last good
        weights (those of the last successful step, or of the start of the last sane epoch if
        the weights had diverged; see the module's docstring).
    CheckpointError
        ``resume`` names a corrupted or truncated checkpoint, one from an older version, or one
        written for another model configuration or optimizer.
    ValueError, TypeError
        Bad input, naming the argument (e.g. ``objective="elbo"`` for a
        :class:`~vae_support.models.DiscreteVAE`, whose latents cannot be reparameterized).
    """
    if not isinstance(model, LatentVariableModel):
        raise TypeError(f"model: expected a vae_support.models model, got {type(model).__name__}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment: expected a callable x_batch -> x_batch, got {type(augment).__name__}")
    config = dataclasses.replace(config or TrainConfig(), **overrides) if overrides else (config or TrainConfig())
    config.validate()
    if config.threads is None:
        return _fit(model, train, val, config, resume, augment)
    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _fit(model, train, val, config, resume, augment)
    finally:
        torch.set_num_threads(previous)


def _check_objective_fits(model: LatentVariableModel, config: TrainConfig) -> None:
    """Raise ``ValueError`` if the objective's gradient cannot reach the encoder of this model.

    The ``"elbo"`` and ``"iwae"`` objectives differentiate through reparameterized samples; a q
    without ``rsample`` (the binary latents of :class:`~vae_support.models.DiscreteVAE`) would
    train its encoder through the KL alone.
    """
    if config.objective != "vimco" and not model.reparameterizable:
        raise ValueError(f"objective: {config.objective!r} needs latents that can be reparameterized; "
                         f"{type(model).__name__}'s cannot, so train it with objective='vimco' (and k >= 2)")


def _fit(model: LatentVariableModel, train, val, config: TrainConfig, resume, augment) -> History:
    """The body of :func:`fit`, with the configuration resolved."""
    if config.device is not None:
        model.to(config.device)
    x_train = model.check_x(_as_x("train", train).to(model.device), "train")
    x_val = None if val is None else model.check_x(_as_x("val", val).to(model.device), "val")
    for name, x in (("train", x_train), ("val", x_val)):
        if x is not None:
            check_not_empty(name, x, 0, "image")
    if config.patience is not None and x_val is None:
        raise ValueError("patience: early stopping needs validation data (val)")
    if config.free_bits > 0 and kl_per_dimension(model.encode(x_train[:2]), model.prior_distribution()) is None:
        raise ValueError("free_bits: needs a prior that factorizes over latent coordinates (prior='standard')")

    _check_objective_fits(model, config)
    optimizer = _make_optimizer(model, config)
    history = History()
    start_epoch, best_state, best_val, bad_epochs = 0, None, -float("inf"), 0
    ema_state = None
    set_seed(config.seed)
    if resume is not None:
        ckpt = load_checkpoint(resume)
        _check_resume(ckpt, model, config)
        ema_state = ckpt.get("ema")
        model.load_state_dict(ckpt["model_state"])
        optimizer.load_state_dict(ckpt["optimizer_state"])
        history = History(**ckpt["history"])
        start_epoch, best_state, bad_epochs = ckpt["epoch"], ckpt["best_state"], ckpt["bad_epochs"]
        best_val = -float("inf") if ckpt["best_val"] is None else ckpt["best_val"]
        torch.set_rng_state(ckpt["rng_state"])
    for group in optimizer.param_groups:
        group["lr"] = config.lr * config.lr_decay ** start_epoch
    average = None if config.ema is None else _Average(model, config.ema, ema_state)
    params = list(model.parameters())  # once: walking the module tree every step costs time

    model.train()
    n = x_train.shape[0]
    n_steps = steps_per_epoch(n, config.batch_size)
    previous = None  # the last mini-batch that completed a step: the probe of the "last good weights"
    good = _GoodWeights(model, average)
    bar = tqdm(range(start_epoch + 1, config.epochs + 1), disable=not config.progress, desc="fit", leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        acc = _Accumulator()
        betas = []
        perm = torch.randperm(n, device=x_train.device)
        good.start_epoch(epoch)
        for step, idx in enumerate(perm.split(config.batch_size), start=1):
            beta = kl_weight(config, (epoch - 1) * n_steps + step - 1, n_steps)
            betas.append(beta)
            xb = x_train[idx] if augment is None else _checked_augment(model, augment, x_train[idx])
            loss = _loss(model, xb, config, beta, acc)
            if not torch.isfinite(loss):
                raise good.error(f"non-finite loss ({float(loss.detach())})", epoch, step, history,
                                        lambda: _finite_loss_on(model, previous, config, beta))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if not _grad_is_finite(params, config):
                optimizer.zero_grad(set_to_none=True)
                raise good.error("non-finite gradient", epoch, step, history,
                                        lambda: _finite_loss_on(model, previous, config, beta))
            optimizer.step()
            previous = xb
            if average is not None:
                average.update()
        history.epoch.append(epoch)
        if average is not None:
            average.swap()  # evaluate, select and save the averaged weights
        _record(history, "train", acc.result())
        history.train_objective.append(acc.mean("objective"))
        history.beta.append(sum(betas) / len(betas))
        history.lr.append(optimizer.param_groups[0]["lr"])
        for group in optimizer.param_groups:
            group["lr"] *= config.lr_decay
        if x_val is not None:
            ev = _validate(model, x_val, config)
            _record(history, "val", ev)
            if ev.elbo > best_val:
                best_val, bad_epochs, history.best_epoch = ev.elbo, 0, epoch
                if config.patience is not None:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                bad_epochs += 1
        if average is not None:
            average.swap()
        history.seconds.append(time.perf_counter() - t0)
        if config.progress:
            post = {"train_elbo": f"{history.train_elbo[-1]:.2f}"}
            if x_val is not None:
                post["val_elbo"] = f"{history.val_elbo[-1]:.2f}"
            bar.set_postfix(post)
        stop = config.patience is not None and bad_epochs >= config.patience
        history.stopped_early = stop
        if config.checkpoint is not None:
            _write_checkpoint(config.checkpoint, _checkpoint_payload(
                model, optimizer, config, history, epoch, best_state, best_val if best_val > -float("inf") else None,
                bad_epochs, None if average is None else average.shadow))
        if stop:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    elif average is not None:
        average.swap()  # return the averaged weights
    model.eval()
    return history


# ---------------------------------------------------------------------------------------------
# Seed discipline: one configuration over several seeds, and paired comparisons of two.


@dataclass(frozen=True)
class SeedSummary:
    """Per-seed metrics of one configuration and their mean and standard deviation.

    Attributes
    ----------
    seeds : tuple of int
        The seeds, in the order they ran.
    values : dict of str to tuple of float
        ``values[metric][i]`` is the metric of ``seeds[i]``.
    mean, sd : dict of str to float
        Mean and sample standard deviation (n − 1 in the denominator) of each metric over the seeds.
    """

    seeds: tuple
    values: dict
    mean: dict
    sd: dict

    def __str__(self) -> str:
        return ", ".join(f"{m} = {self.mean[m]:.4g} ± {self.sd[m]:.4g}" for m in self.values)


@dataclass(frozen=True)
class PairedDifference:
    r"""Per-seed differences a − b of one metric between two configurations trained on the same seeds.

    Attributes
    ----------
    metric : str
    seeds : tuple of int
    differences : tuple of float
        :math:`d_i = a_i - b_i`, seed by seed.
    mean, sd : float
        Mean :math:`\bar d` and sample standard deviation :math:`s_d` (n − 1) of the differences.
    within_noise : bool
        ``abs(mean) <= sd``: the difference is no larger than its own seed-to-seed spread.
    """

    metric: str
    seeds: tuple
    differences: tuple
    mean: float
    sd: float
    within_noise: bool

    def __str__(self) -> str:
        verdict = "within noise" if self.within_noise else "beyond the seed spread"
        return f"{self.metric}: a - b = {self.mean:.4g} ± {self.sd:.4g} ({verdict})"


def _mean_sd(values: list) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    return mean, (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5


def _check_seeds(seeds) -> tuple:
    try:
        seeds = tuple(seeds)
    except TypeError as err:
        raise TypeError(f"seeds: expected a sequence of integers, got {type(seeds).__name__}") from err
    seeds = tuple(check_integer("seeds", s, minimum=0) for s in seeds)
    if len(seeds) < 2:
        raise ValueError(f"seeds: expected at least 2 seeds (a spread needs two), got {len(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected distinct seeds, got {seeds}")
    return seeds


def over_seeds(run, seeds=(0, 1, 2)) -> SeedSummary:
    r"""Run one configuration once per seed and summarize its metrics (mean ± sd over the seeds).

    Parameters
    ----------
    run : callable
        ``run(seed) -> dict[str, float]``: trains and evaluates the configuration with that seed
        (the seed of the weights' initialization *and* of training) and returns its metrics,
        e.g. ``{"elbo": ..., "log_px": ...}``. Every seed must return the same metric names.
        :func:`train_over_seeds` builds such a ``run`` for :func:`fit`.
    seeds : sequence of int
        At least two distinct non-negative seeds (the course uses three).

    Returns
    -------
    SeedSummary
        Per-seed values, mean and sample standard deviation
        :math:`s = \sqrt{\sum_i (v_i - \bar v)^2 / (n - 1)}` of each metric.

    Raises
    ------
    ValueError, TypeError
        Fewer than two seeds, repeated or negative seeds, a ``run`` that is not callable, or one
        that returns no metrics, other names for another seed, or a non-finite value.
    """
    if not callable(run):
        raise TypeError(f"run: expected a callable seed -> dict of metrics, got {type(run).__name__}")
    seeds = _check_seeds(seeds)
    per_seed = {}
    names = None
    for seed in seeds:
        metrics = run(seed)
        if not isinstance(metrics, dict) or not metrics:
            raise ValueError(f"run: expected a non-empty dict of metrics for seed {seed}, got {metrics!r}")
        if names is None:
            names = list(metrics)
        elif set(metrics) != set(names):
            raise ValueError(f"run: seed {seed} returned metrics {sorted(metrics)}, seed {seeds[0]} {sorted(names)}")
        for name in names:
            v = check_real(f"run(seed={seed})[{name!r}]", float(metrics[name]))
            per_seed.setdefault(name, []).append(v)
    stats = {name: _mean_sd(vs) for name, vs in per_seed.items()}
    return SeedSummary(seeds=seeds, values={m: tuple(v) for m, v in per_seed.items()},
                       mean={m: s[0] for m, s in stats.items()}, sd={m: s[1] for m, s in stats.items()})


def train_over_seeds(build, train, config: TrainConfig | None = None, seeds=(0, 1, 2), *, val=None,
                     evaluate=None, **overrides) -> SeedSummary:
    r"""Train a fresh model per seed with :func:`fit` and summarize its metrics (:func:`over_seeds`).

    For each seed: ``set_seed(seed)``, ``model = build()``, ``history = fit(model, train, val,
    config, seed=seed, **overrides)``, ``metrics = evaluate(model, history)``. The seed thus sets
    the initialization, the mini-batch order and the samples; everything else is the same.

    Parameters
    ----------
    build : callable
        ``build() -> model``: a new, untrained model (e.g. ``lambda: VAE(z_dim=2)``).
    train, val, config, **overrides
        As in :func:`fit` (``config.seed`` is replaced by each seed).
    seeds : sequence of int
        At least two distinct seeds.
    evaluate : callable, optional
        ``evaluate(model, history) -> dict[str, float]``. Default: the last epoch's training
        ELBO (``"train_elbo"``) and, with ``val``, validation ELBO (``"val_elbo"``), nats per image.

    Returns
    -------
    SeedSummary
    """
    if not callable(build):
        raise TypeError(f"build: expected a callable returning a new model, got {type(build).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate: expected a callable (model, history) -> dict, got {type(evaluate).__name__}")

    def default(model, history):
        out = {"train_elbo": history.train_elbo[-1]}
        if history.val_elbo:
            out["val_elbo"] = history.val_elbo[-1]
        return out

    def run(seed):
        set_seed(seed)
        model = build()
        history = fit(model, train, val, config, seed=seed, **overrides)
        return (evaluate or default)(model, history)

    return over_seeds(run, seeds)


def paired_difference(a: SeedSummary, b: SeedSummary, metric: str) -> PairedDifference:
    r"""Seed-by-seed difference a − b of ``metric`` between two configurations, with a noise verdict.

    Two configurations run on the same seeds share their initialization and mini-batch order
    seed by seed, so the per-seed differences :math:`d_i = a_i - b_i` cancel much of the
    seed-to-seed variation that both share (a paired comparison).

    The rule: the difference is **within noise** when :math:`|\bar d| \le s_d`, the sample
    standard deviation (n − 1) of the :math:`d_i`. It is a deliberately lenient screen, not a
    significance test: with 3 seeds a two-sided paired t-test at 5 % would need
    :math:`|\bar d| > 4.30\, s_d/\sqrt 3 \approx 2.5\, s_d`. A difference outside the noise by
    this rule is worth reading; one within it must not be interpreted.

    Parameters
    ----------
    a, b : SeedSummary
        Results of :func:`over_seeds` / :func:`train_over_seeds` on the same seeds.
    metric : str
        A metric both hold.

    Returns
    -------
    PairedDifference
    """
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, SeedSummary):
            raise TypeError(f"{name}: expected a SeedSummary (from over_seeds), got {type(s).__name__}")
        if metric not in s.values:
            raise ValueError(f"metric: {metric!r} is not among {name}'s metrics {sorted(s.values)}")
    if a.seeds != b.seeds:
        raise ValueError(f"a, b: a paired difference needs the same seeds, got {a.seeds} and {b.seeds}")
    d = [x - y for x, y in zip(a.values[metric], b.values[metric])]
    mean, sd = _mean_sd(d)
    return PairedDifference(metric=metric, seeds=a.seeds, differences=tuple(d), mean=mean, sd=sd,
                            within_noise=abs(mean) <= sd)
