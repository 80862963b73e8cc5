"""vae_support.distributions against torch.distributions and hand computations."""
import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MultivariateNormal, Normal

from vae_support.distributions import (
    LevelCategorical,
    MixturePrior,
    StandardNormalPrior,
    categorical_likelihood,
    pixel_mean,
    scale_tril_from_vector,
)


def test_level_categorical_is_torchs_categorical():
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 17)
    ours, ref = LevelCategorical(logits), Categorical(logits=logits)
    value = torch.randint(0, 17, (3, 5)).float()
    torch.testing.assert_close(ours.log_prob(value), ref.log_prob(value))
    torch.testing.assert_close(ours.probs, ref.probs)
    torch.testing.assert_close(ours.entropy(), ref.entropy())
    expanded = ours.expand((2, 3, 5))
    assert isinstance(expanded, LevelCategorical) and expanded.batch_shape == (2, 3, 5)
    torch.testing.assert_close(expanded.log_prob(value), ref.log_prob(value).expand(2, 3, 5))
    with pytest.raises(ValueError, match="logits"):
        LevelCategorical(torch.tensor(1.0))


def test_categorical_likelihood_mean_and_log_prob():
    torch.manual_seed(1)
    logits = torch.randn(2, 4, 17)
    lik = categorical_likelihood(logits)
    x = torch.tensor([[0.0, 16.0, 3.0, 7.0], [1.0, 2.0, 3.0, 4.0]])
    expected = torch.log_softmax(logits, -1).gather(-1, x.long().unsqueeze(-1)).squeeze(-1).sum(-1)
    torch.testing.assert_close(lik.log_prob(x), expected)
    torch.testing.assert_close(pixel_mean(lik), (torch.softmax(logits, -1) * torch.arange(17.0)).sum(-1))
    normal = Independent(Normal(torch.ones(2, 3), 2.0), 1)
    torch.testing.assert_close(pixel_mean(normal), torch.ones(2, 3))


def test_scale_tril_from_vector_builds_the_cholesky_factor():
    L = scale_tril_from_vector(torch.log(torch.tensor([1.0, 2.0, 3.0])), torch.tensor([0.5, -1.0, 4.0]))
    expected = torch.tensor([[1.0, 0.0, 0.0], [0.5, 2.0, 0.0], [-1.0, 4.0, 3.0]])
    torch.testing.assert_close(L, expected)


def test_standard_prior_diag_and_full_agree():
    z = torch.randn(5, 3)
    diag, full = StandardNormalPrior(3)(), StandardNormalPrior(3, full=True)()
    assert isinstance(full, MultivariateNormal)
    expected = -0.5 * (z**2).sum(-1) - 1.5 * math.log(2 * math.pi)
    torch.testing.assert_close(diag.log_prob(z), expected)
    torch.testing.assert_close(full.log_prob(z), expected)


def test_mixture_prior_density_integrates_to_one_in_one_dimension():
    torch.manual_seed(0)
    prior = MixturePrior(z_dim=1, n_components=3)
    grid = torch.linspace(-12, 12, 20001).unsqueeze(-1)
    with torch.no_grad():
        mass = torch.trapezoid(prior().log_prob(grid).exp(), grid.squeeze(-1))
    assert float(mass) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError, match="n_components"):
        MixturePrior(z_dim=2, n_components=0)
