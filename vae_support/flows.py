r"""Normalizing-flow posteriors: planar flows and inverse autoregressive flow (IAF).

A flow pushes a simple base density through invertible maps :math:`f_1, \dots, f_K`,
:math:`z_K = f_K\circ\dots\circ f_1(z_0)`, :math:`z_0 \sim q_0(z_0\mid x)`, and its density follows
from the change of variables (book equation ``eq-flow-change-of-variables``):

.. math::
    \log q_K(z_K\mid x) = \log q_0(z_0\mid x) - \sum_{k=1}^K \log\left|\det
    \frac{\partial f_k}{\partial z_{k-1}}\right|.

In the ELBO (book equation ``eq-flow-elbo``) the expectation over :math:`q_K` becomes one over
the base, so the reparameterization trick still applies and no inverse is ever needed:

.. math::
    \mathcal L(x) = \mathbb E_{q_0(z_0|x)}\Big[\log p_\theta(x, z_K) - \log q_0(z_0|x)
    + \sum_k \log\Big|\det\frac{\partial f_k}{\partial z_{k-1}}\Big|\Big].

Everything is built on ``torch.distributions``: each map is a
:class:`torch.distributions.transforms.Transform` with ``log_abs_det_jacobian``, and the
posterior is a :class:`FlowPosterior`, a ``TransformedDistribution`` whose ``rsample`` and
``log_prob`` the package's bounds use like any other q. The transforms cache their last
(input, output) pair, so ``log_prob`` of a sample just drawn costs no inversion. A flow q has no
closed-form KL to the prior: :func:`vae_support.bounds.elbo_terms` falls back to the Monte Carlo
KL (book equation ``eq-kl-mc``) at the samples.

Transforms (event = the last dimension; parameters broadcast against the samples'
``(samples, batch)`` dimensions):

* :class:`LinearTransform` — :math:`z \mapsto Az + c`, the exact test case (a Gaussian);
* :class:`PlanarTransform` — :math:`z \mapsto z + \hat u\,\tanh(w^\top z + b)` (Rezende &
  Mohamed, 2015; ``eq-planar-flow``);
* :class:`IAFTransform` — :math:`z \mapsto \sigma \odot z + (1-\sigma)\odot m` with
  :math:`(m, s) = \mathrm{MADE}(z, h)`, :math:`\sigma = \operatorname{sigmoid}(s)` (Kingma et
  al., 2016; ``eq-iaf``).

Amortized posteriors (what a :class:`vae_support.models.VAE` built with ``encoder="planar"`` or
``"iaf"`` uses): the encoder's last layer is read by :class:`PlanarFlow` or :class:`IAF`,
which return a :class:`FlowPosterior` of batch shape [batch] and event [z_dim].

References: Rezende & Mohamed (2015), *Variational inference with normalizing flows*; Kingma,
Salimans, Jozefowicz, Chen, Sutskever & Welling (2016), *Improved variational inference with
inverse autoregressive flow*; Germain et al. (2015), *MADE*.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import TransformedDistribution, constraints
from torch.distributions.transforms import Transform

from ._checks import as_tensor, check_finite, check_integer, check_min_dim
from .distributions import diagonal_gaussian

__all__ = ["FLOWS", "LinearTransform", "PlanarTransform", "IAFTransform", "made_masks", "FlowPosterior",
           "PlanarFlow", "IAF", "make_flow"]

FLOWS = ("planar", "iaf")
"""The flow families of :func:`make_flow` (and of ``VAE(encoder=...)``)."""

_BISECTION_STEPS = 80


def _vector(name: str, value, validate: bool) -> torch.Tensor:
    t = as_tensor(name, value)
    check_min_dim(name, t, 1, "(the last is the latent dimension)")
    return check_finite(name, t) if validate else t


def _check_last(name: str, t: torch.Tensor, d: int) -> None:
    if t.shape[-1] != d:
        raise ValueError(f"{name}: expected last dimension {d} (the latent dimension), got shape {tuple(t.shape)}")


class LinearTransform(Transform):
    r"""An invertible affine map :math:`z \mapsto Az + c` with :math:`\log|\det A|` as its log-Jacobian.

    Pushing :math:`\mathcal N(0, I)` through it gives :math:`\mathcal N(c, AA^\top)` exactly: the
    test of the change of variables (book equation ``eq-flow-change-of-variables``) against
    ``MultivariateNormal``.

    Parameters
    ----------
    matrix : Tensor [..., d, d]
        Invertible :math:`A`.
    shift : Tensor [..., d]
        :math:`c`.
    """

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True

    def __init__(self, matrix, shift, cache_size: int = 1, validate: bool = True):
        super().__init__(cache_size=cache_size)
        self.matrix = as_tensor("matrix", matrix)
        check_min_dim("matrix", self.matrix, 2, "(a square matrix [..., d, d])")
        d = self.matrix.shape[-1]
        if self.matrix.shape[-2] != d:
            raise ValueError(f"matrix: expected a square matrix [..., d, d], got shape {tuple(self.matrix.shape)}")
        self.shift = _vector("shift", shift, validate)
        _check_last("shift", self.shift, d)
        sign, self._log_abs_det = torch.linalg.slogdet(self.matrix)
        if validate:
            check_finite("matrix", self.matrix)
            if (sign == 0).any():
                raise ValueError("matrix: expected an invertible matrix, got a singular one")

    def _call(self, x):
        return (self.matrix @ x.unsqueeze(-1)).squeeze(-1) + self.shift

    def _inverse(self, y):
        return torch.linalg.solve(self.matrix, (y - self.shift).unsqueeze(-1)).squeeze(-1)

    def log_abs_det_jacobian(self, x, y):
        """:math:`\\log|\\det A|`, broadcast to the sample's batch shape ``x.shape[:-1]``."""
        return self._log_abs_det.expand(torch.broadcast_shapes(x.shape[:-1], self._log_abs_det.shape))


class PlanarTransform(Transform):
    r"""The planar flow of Rezende & Mohamed (2015), with its invertibility condition enforced.

    .. math::
        f(z) = z + \hat u\, \tanh(w^\top z + b),\qquad
        \log\left|\det\frac{\partial f}{\partial z}\right| =
        \log\left|1 + \big(1 - \tanh^2(w^\top z + b)\big)\, w^\top\hat u\right|

    (book equation ``eq-planar-flow``). f is invertible when :math:`w^\top\hat u \ge -1`; the
    free parameter u is mapped to

    .. math:: \hat u = u + \big(m(w^\top u) - w^\top u\big)\frac{w}{\|w\|^2},\qquad
              m(a) = -1 + \log(1 + e^a),

    so that :math:`w^\top \hat u = m(w^\top u) > -1` (Rezende & Mohamed, 2015, appendix A; book
    equation ``eq-planar-invertibility``).
    The inverse has no closed form: :math:`\alpha = w^\top z_0` solves the scalar monotone
    equation :math:`\alpha + w^\top\hat u\,\tanh(\alpha + b) = w^\top z`, found by bisection, then
    :math:`z_0 = z - \hat u\tanh(\alpha + b)`.

    Parameters
    ----------
    u, w : Tensor [..., d]
    b : Tensor [...]
        Broadcast against the samples' leading dimensions (e.g. [batch, d] for one flow per
        data point, [d] for one shared flow).
    """

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True

    def __init__(self, u, w, b, cache_size: int = 1, validate: bool = True):
        super().__init__(cache_size=cache_size)
        u, w = _vector("u", u, validate), _vector("w", w, validate)
        b = as_tensor("b", b)
        if validate:
            check_finite("b", b)
        _check_last("w", w, u.shape[-1])
        try:
            torch.broadcast_shapes(u.shape[:-1], w.shape[:-1], b.shape)
        except RuntimeError as err:
            raise ValueError(f"b: expected a shape broadcastable with u's and w's leading dimensions "
                             f"{tuple(u.shape[:-1])}, got {tuple(b.shape)}") from err
        self.u, self.w, self.b = u, w, b
        wu = (w * u).sum(-1, keepdim=True)
        self.u_hat = u + (F.softplus(wu) - 1 - wu) * w / (w * w).sum(-1, keepdim=True).clamp_min(1e-12)
        self.w_u_hat = (w * self.u_hat).sum(-1)

    def _call(self, x):
        return x + self.u_hat * torch.tanh((self.w * x).sum(-1) + self.b).unsqueeze(-1)

    def _inverse(self, y):
        a = (self.w * y).sum(-1)
        wu = self.w_u_hat.expand_as(a)
        lo, hi = a - wu.abs() - 1e-6, a + wu.abs() + 1e-6  # |tanh| < 1 brackets the root
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            above = mid + wu * torch.tanh(mid + self.b) > a
            lo, hi = torch.where(above, lo, mid), torch.where(above, mid, hi)
        alpha = 0.5 * (lo + hi)
        return y - self.u_hat * torch.tanh(alpha + self.b).unsqueeze(-1)

    def log_abs_det_jacobian(self, x, y):
        """:math:`\\log|1 + (1-\\tanh^2(w^\\top x + b))\\,w^\\top\\hat u|`, shape ``x.shape[:-1]``."""
        t = torch.tanh((self.w * x).sum(-1) + self.b)
        return torch.log1p((1 - t * t) * self.w_u_hat)


def made_masks(z_dim: int, hidden: int, reverse: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Masks of a one-hidden-layer MADE (Germain et al., 2015) for an autoregressive map of z.

    Inputs get degrees :math:`1..d` (``reverse``: :math:`d..1`), hidden units degrees cycling
    through :math:`1..d-1`; a weight is kept when the degree does not decrease into the hidden
    layer and strictly increases into the output, so output j depends only on inputs of smaller
    degree: the Jacobian of the outputs with respect to z is strictly triangular (in that order).

    Parameters
    ----------
    z_dim : int
        d ≥ 2.
    hidden : int
        Hidden units H ≥ 1.
    reverse : bool
        Reverse the order of the inputs (alternated between IAF layers).

    Returns
    -------
    (mask_in [H, d], mask_out [2d, H])
        0/1 float masks; ``mask_out`` serves both outputs m and s (rows 0..d−1 and d..2d−1).
    """
    d = check_integer("z_dim", z_dim, minimum=2)
    h = check_integer("hidden", hidden)
    degrees = torch.arange(1, d + 1)
    if reverse:
        degrees = degrees.flip(0)
    hidden_degrees = torch.arange(h) % (d - 1) + 1
    mask_in = (hidden_degrees[:, None] >= degrees[None, :]).float()
    mask_out = (degrees[:, None] > hidden_degrees[None, :]).float().repeat(2, 1)
    return mask_in, mask_out


class IAFTransform(Transform):
    r"""One step of inverse autoregressive flow (Kingma et al., 2016), with a MADE network.

    .. math::
        (m, s) = \mathrm{MADE}(z, h),\quad \sigma = \operatorname{sigmoid}(s),\quad
        f(z) = \sigma\odot z + (1-\sigma)\odot m,\quad
        \log\left|\det\frac{\partial f}{\partial z}\right| = \sum_j \log\sigma_j

    (book equation ``eq-iaf``). MADE: :math:`g = \operatorname{elu}((W_1\odot M_1)z + c)`,
    :math:`(m, s) = (W_2\odot M_2)g + b_2`; the context :math:`c = c(h(x))` [H] carries the
    data point, and the masks make :math:`m_j, s_j` depend on :math:`z_{<j}` only (in the order of
    :func:`made_masks`), so the Jacobian is triangular with diagonal :math:`\sigma` and its
    log-determinant costs O(d). The forward map (sampling) is one network pass; the inverse
    (needed only for ``log_prob`` of a point that was not just sampled) takes d passes.

    Parameters
    ----------
    weight_in : Tensor [..., H, d]
    context : Tensor [..., H]
        The data point's context :math:`c` (per point: [batch, H]).
    weight_out : Tensor [..., 2d, H]
    bias_out : Tensor [..., 2d]
    mask_in : Tensor [H, d]
    mask_out : Tensor [2d, H]
        From :func:`made_masks`.
    """

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True

    def __init__(self, weight_in, context, weight_out, bias_out, mask_in, mask_out, cache_size: int = 1,
                 validate: bool = True):
        super().__init__(cache_size=cache_size)
        names = ("weight_in", "context", "weight_out", "bias_out", "mask_in", "mask_out")
        values = [as_tensor(n, v) for n, v in zip(names, (weight_in, context, weight_out, bias_out, mask_in, mask_out))]
        if validate:
            for n, v in zip(names, values):
                check_finite(n, v)
        weight_in, context, weight_out, bias_out, mask_in, mask_out = values
        check_min_dim("mask_in", mask_in, 2, "[H, d]")
        h, d = mask_in.shape[-2:]
        expected = {"weight_in": (h, d), "context": (h,), "weight_out": (2 * d, h), "bias_out": (2 * d,),
                    "mask_out": (2 * d, h)}
        for n, v in zip(names, values):
            if n in expected and tuple(v.shape[len(v.shape) - len(expected[n]):]) != expected[n]:
                raise ValueError(f"{n}: expected trailing shape {expected[n]} (H={h}, d={d}), got {tuple(v.shape)}")
        self.weight_in, self.weight_out = weight_in * mask_in, weight_out * mask_out
        self.context, self.bias_out, self.z_dim = context, bias_out, d
        self._last = None

    def _net(self, z):
        """MADE outputs (m, s), each [..., d]."""
        if self.weight_in.dim() == 2:
            g = F.elu(F.linear(z, self.weight_in) + self.context)
        else:
            g = F.elu((self.weight_in @ z.unsqueeze(-1)).squeeze(-1) + self.context)
        if self.weight_out.dim() == 2:
            out = F.linear(g, self.weight_out, self.bias_out)
        else:
            out = (self.weight_out @ g.unsqueeze(-1)).squeeze(-1) + self.bias_out
        return out[..., : self.z_dim], out[..., self.z_dim:]

    def _call(self, x):
        m, s = self._net(x)
        log_sigma = F.logsigmoid(s)
        self._last = (x, log_sigma)
        sigma = log_sigma.exp()
        return sigma * x + (1 - sigma) * m

    def _inverse(self, y):
        x = torch.zeros_like(y)
        for _ in range(self.z_dim):  # coordinate j is exact after j passes (autoregressive order)
            m, s = self._net(x)
            sigma = torch.sigmoid(s)
            x = (y - (1 - sigma) * m) / sigma
        return x

    def log_abs_det_jacobian(self, x, y):
        """:math:`\\sum_j\\log\\sigma_j(x)`, shape ``x.shape[:-1]``."""
        if self._last is not None and self._last[0] is x:
            return self._last[1].sum(-1)
        return F.logsigmoid(self._net(x)[1]).sum(-1)


class FlowPosterior(TransformedDistribution):
    r"""An amortized flow posterior :math:`q_K(z\mid x)`: a diagonal Gaussian base pushed through flow layers.

    .. math:: z_0 = \mu(x) + \sigma(x)\odot\varepsilon,\ \varepsilon\sim\mathcal N(0, I),\qquad
              z_K = f_K\circ\dots\circ f_1(z_0)

    with the density of book equation ``eq-flow-change-of-variables``. ``rsample((k,))`` gives
    [k, batch, d]; ``log_prob`` of those samples uses the transforms' cache (no inversion).
    :math:`\mathbb E_q[z]` has no closed form: ``mean`` raises ``NotImplementedError``. A
    deterministic point of q is :attr:`base_mean_image`, the flow's image of the base mean
    :math:`f_K\circ\dots\circ f_1(\mu(x))` — what :meth:`vae_support.models.VAE.reconstruct`
    decodes for a flow encoder; it is **not** :math:`\mathbb E_q[z]` (equal to it only when every
    layer is affine).

    Built by :class:`PlanarFlow` or :class:`IAF` from a list of parameter tensors;
    :meth:`local_parameters` and :meth:`with_parameters` let
    :func:`vae_support.inference.optimize_local_q` give every data point its own flow.

    Parameters
    ----------
    head : PlanarFlow or IAF
        The family: how many layers, and how a list of tensors becomes transforms.
    params : sequence of Tensor
        ``loc`` [..., d], ``log_scale`` [..., d] of the base, then the layers' parameters
        (``head.params_per_layer`` per layer, in the order of ``head.transforms``).
    shared : sequence of bool
        For each tensor, whether it is shared by every data point (no batch dimension: the
        IAF's MADE weights) rather than one per point.
    validate : bool
        Check the tensors for NaN/inf (off inside training loops, where ``fit`` guards the loss).
    """

    arg_constraints: dict = {}

    def __init__(self, head: "PlanarFlow | IAF", params: Sequence[torch.Tensor], shared: Sequence[bool],
                 validate: bool = False):
        if not isinstance(head, _FlowHead):
            raise TypeError(f"head: expected a PlanarFlow or IAF, got {type(head).__name__}")
        params, shared = list(params), list(shared)
        expected = 2 + head.length * head.params_per_layer
        if len(params) != expected or len(shared) != expected:
            raise ValueError(f"params: expected {expected} tensors (loc, log_scale, then {head.params_per_layer} per layer "
                             f"for {head.length} layers) and as many shared flags, got {len(params)} and {len(shared)}")
        loc, log_scale = params[0], params[1]
        if loc.shape != log_scale.shape or loc.dim() < 1 or loc.shape[-1] != head.z_dim:
            raise ValueError(f"params: expected loc and log_scale of shape [..., {head.z_dim}], got "
                             f"{tuple(loc.shape)} and {tuple(log_scale.shape)}")
        base = diagonal_gaussian(loc, log_scale.exp(), validate_args=None if validate else False)
        self.head, self.params, self.shared = head, params, shared
        super().__init__(base, head.transforms(params[2:], validate), validate_args=False)

    @property
    def base_mean_image(self) -> torch.Tensor:
        r"""The flow's image of the base mean, :math:`f_K\circ\dots\circ f_1(\mu(x))`, [batch, d].

        A deterministic point of q computed in one pass (no sampling, no inversion), used as the
        code of x where a Gaussian q would use its mean (``VAE.reconstruct``). It is **not**
        :math:`\mathbb E_q[z]`: the mean of a nonlinear map is not the map of the mean (Jensen).
        The two coincide when every layer is affine (e.g. a planar layer with :math:`w = 0`, a
        pure shift, or an IAF layer whose MADE outputs do not depend on z); otherwise estimate
        :math:`\mathbb E_q[z]` by averaging ``sample((k,))``.
        """
        z = self.base_dist.mean
        for transform in self.transforms:
            z = transform(z)
        return z

    def local_parameters(self) -> list[torch.Tensor]:
        """Detached copies of every parameter, each with its own leading batch dimension [batch, ...]."""
        batch = self.batch_shape[0]
        return [p.detach().expand(batch, *p.shape).clone() if s else p.detach().clone()
                for p, s in zip(self.params, self.shared)]

    def with_parameters(self, params: Sequence[torch.Tensor]) -> "FlowPosterior":
        """The same family with the given parameters (as returned by :meth:`local_parameters`)."""
        return FlowPosterior(self.head, params, [False] * len(params))


class _FlowHead(nn.Module):
    """Shared checks of :class:`PlanarFlow` and :class:`IAF`."""

    z_dim: int
    length: int
    n_outputs: int
    params_per_layer: int

    def _check_out(self, out) -> torch.Tensor:
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"out: expected a torch.Tensor [batch, {self.n_outputs}], got {type(out).__name__}")
        if out.dim() < 1 or out.shape[-1] != self.n_outputs:
            raise ValueError(f"out: expected last dimension {self.n_outputs} (the encoder's outputs), got {tuple(out.shape)}")
        return out

    def _base(self, out):
        d = self.z_dim
        return out[..., :d], 0.5 * out[..., d: 2 * d]  # (mu, log sigma) from (mu, log sigma^2)


class PlanarFlow(_FlowHead):
    r"""Amortized planar flow: the encoder outputs the base and every layer's :math:`(u, w, b)`.

    As in Rezende & Mohamed (2015), all the flow's parameters are functions of x: the encoder's
    last layer has :math:`2d + K(2d + 1)` outputs, :math:`(\mu, \log\sigma^2)` then
    :math:`(u_k, w_k, b_k)` for each of the K layers (book equation ``eq-planar-flow``).

    Parameters
    ----------
    z_dim : int
    length : int
        Number of planar layers K ≥ 1.
    """

    def __init__(self, z_dim: int, length: int = 2):
        super().__init__()
        self.z_dim = check_integer("z_dim", z_dim)
        self.length = check_integer("length", length)
        self.n_outputs = 2 * self.z_dim + self.length * (2 * self.z_dim + 1)
        self.params_per_layer = 3

    def transforms(self, params: Sequence[torch.Tensor], validate: bool = False) -> list[Transform]:
        """K planar transforms from ``[u_1, w_1, b_1, u_2, ...]``."""
        return [PlanarTransform(*params[3 * k: 3 * k + 3], validate=validate) for k in range(self.length)]

    def forward(self, out: torch.Tensor) -> FlowPosterior:
        """:math:`q(z|x)` from the encoder's outputs ``out`` [batch, n_outputs]; batch shape [batch]."""
        out = self._check_out(out)
        d = self.z_dim
        params = list(self._base(out))
        for k in range(self.length):
            o = out[..., 2 * d + k * (2 * d + 1): 2 * d + (k + 1) * (2 * d + 1)]
            params += [o[..., :d], o[..., d: 2 * d], o[..., 2 * d]]
        return FlowPosterior(self, params, [False] * len(params))


class IAF(_FlowHead):
    r"""Amortized inverse autoregressive flow (Kingma et al., 2016).

    The encoder outputs :math:`(\mu, \log\sigma^2)` and a context :math:`c_k(x)` [H] for each of
    the K layers (:math:`2d + KH` outputs: the context h(x) of Kingma et al., already mapped to
    each layer's hidden units); the MADE weights are shared by all data points and learned with
    the model. Layers alternate the autoregressive order (:func:`made_masks`). The bias of s
    starts at +2 so that :math:`\sigma\approx 0.88` and each layer starts close to the identity,
    as the paper recommends.

    Parameters
    ----------
    z_dim : int
        d ≥ 2.
    length : int
        Number of IAF layers K ≥ 1.
    hidden : int
        MADE hidden units H ≥ 1.
    """

    def __init__(self, z_dim: int, length: int = 2, hidden: int = 32):
        super().__init__()
        self.z_dim = check_integer("z_dim", z_dim, minimum=2)
        self.length = check_integer("length", length)
        self.hidden = check_integer("hidden", hidden)
        d, h = self.z_dim, self.hidden
        self.n_outputs = 2 * d + self.length * h
        self.params_per_layer = 4
        self.weight_in = nn.ParameterList()
        self.weight_out = nn.ParameterList()
        self.bias_out = nn.ParameterList()
        for k in range(self.length):
            mask_in, mask_out = made_masks(d, h, reverse=k % 2 == 1)
            self.register_buffer(f"mask_in_{k}", mask_in)
            self.register_buffer(f"mask_out_{k}", mask_out)
            self.weight_in.append(nn.Parameter(torch.randn(h, d) / d ** 0.5))
            self.weight_out.append(nn.Parameter(0.01 * torch.randn(2 * d, h)))
            self.bias_out.append(nn.Parameter(torch.cat([torch.zeros(d), torch.full((d,), 2.0)])))

    def transforms(self, params: Sequence[torch.Tensor], validate: bool = False) -> list[Transform]:
        """K IAF transforms from ``[c_1, W_in_1, W_out_1, b_out_1, c_2, ...]``."""
        return [IAFTransform(params[4 * k + 1], params[4 * k], params[4 * k + 2], params[4 * k + 3],
                             getattr(self, f"mask_in_{k}"), getattr(self, f"mask_out_{k}"), validate=validate)
                for k in range(self.length)]

    def forward(self, out: torch.Tensor) -> FlowPosterior:
        """:math:`q(z|x)` from the encoder's outputs ``out`` [batch, n_outputs]; batch shape [batch]."""
        out = self._check_out(out)
        d, h = self.z_dim, self.hidden
        params, shared = list(self._base(out)), [False, False]
        for k in range(self.length):
            params += [out[..., 2 * d + k * h: 2 * d + (k + 1) * h], self.weight_in[k], self.weight_out[k],
                       self.bias_out[k]]
            shared += [False, True, True, True]
        return FlowPosterior(self, params, shared)


def make_flow(kind: str, z_dim: int, length: int = 2, hidden: int = 32) -> PlanarFlow | IAF:
    """A flow head by name: ``"planar"`` (:class:`PlanarFlow`) or ``"iaf"`` (:class:`IAF`, MADE width ``hidden``)."""
    if kind not in FLOWS:
        raise ValueError(f"kind: expected one of {list(FLOWS)}, got {kind!r}")
    if kind == "planar":
        return PlanarFlow(z_dim, length)
    return IAF(z_dim, length, hidden)
