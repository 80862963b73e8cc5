"""vae_support.train seed helpers: over_seeds, train_over_seeds, paired_difference (hand-computed values)."""
import pytest
import torch

from vae_support import set_seed
from vae_support.data import load_digits
from vae_support.models import VAE
from vae_support.train import PairedDifference, SeedSummary, fit, over_seeds, paired_difference, train_over_seeds

from test_models import one_thread  # noqa: F401  (autouse: tiny models run on one thread)


def fake(table):
    """A fake trainer: seed -> the metrics listed for it."""
    return lambda seed: dict(table[seed])


A = fake({0: {"elbo": -100.0, "kl": 5.0}, 1: {"elbo": -102.0, "kl": 5.0}, 2: {"elbo": -104.0, "kl": 8.0}})


def test_mean_and_sample_sd_by_hand():
    s = over_seeds(A, seeds=(0, 1, 2))
    assert isinstance(s, SeedSummary) and s.seeds == (0, 1, 2)
    assert s.values["elbo"] == (-100.0, -102.0, -104.0)
    # mean −102; squared deviations 4 + 0 + 4 = 8, / (3 − 1) = 4, sd 2
    assert s.mean["elbo"] == pytest.approx(-102.0) and s.sd["elbo"] == pytest.approx(2.0)
    # kl: mean 6; deviations 1 + 1 + 4 = 6, / 2 = 3, sd √3
    assert s.mean["kl"] == pytest.approx(6.0) and s.sd["kl"] == pytest.approx(3 ** 0.5)
    assert str(s) == "elbo = -102 ± 2, kl = 6 ± 1.732"


def test_paired_difference_and_the_within_noise_rule():
    a = over_seeds(A)
    # differences 1, −1, 3: mean 1, deviations 0 + 4 + 4 = 8, / 2 = 4, sd 2 → |1| <= 2: within noise
    b = over_seeds(fake({0: {"elbo": -101.0}, 1: {"elbo": -101.0}, 2: {"elbo": -107.0}}))
    d = paired_difference(a, b, "elbo")
    assert isinstance(d, PairedDifference)
    assert d.differences == pytest.approx((1.0, -1.0, 3.0))
    assert (d.mean, d.sd, d.within_noise) == (pytest.approx(1.0), pytest.approx(2.0), True)
    assert str(d) == "elbo: a - b = 1 ± 2 (within noise)"
    # differences 1, 1, 1.5: mean 7/6, sd ≈ 0.2887 → beyond the seed spread, although the seeds'
    # own spread (sd 2 for a) is larger: pairing removes what both configurations share
    c = over_seeds(fake({0: {"elbo": -101.0}, 1: {"elbo": -103.0}, 2: {"elbo": -105.5}}))
    d = paired_difference(a, c, "elbo")
    assert d.mean == pytest.approx(7 / 6) and d.sd == pytest.approx((1 / 12) ** 0.5) and not d.within_noise
    e = over_seeds(fake({0: {"elbo": -100.0}, 1: {"elbo": -102.0}, 2: {"elbo": -104.0}}))
    assert paired_difference(a, e, "elbo").within_noise  # all differences 0: mean 0 <= sd 0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(run=A, seeds=(0,)), ValueError, "at least 2 seeds"),
    (dict(run=A, seeds=(0, 0)), ValueError, "distinct"),
    (dict(run=A, seeds=(0, -1)), ValueError, "seeds"),
    (dict(run=A, seeds=5), TypeError, "seeds"),
    (dict(run=42), TypeError, "run"),
    (dict(run=lambda s: {}), ValueError, "non-empty dict"),
    (dict(run=lambda s: {"elbo": float("nan")}), ValueError, "elbo"),
    (dict(run=lambda s: {"elbo": 1.0} if s == 0 else {"kl": 1.0}), ValueError, "returned metrics"),
])
def test_bad_input_names_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        over_seeds(**kwargs)


def test_paired_difference_needs_the_same_seeds_and_metric():
    a = over_seeds(A)
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference(a, over_seeds(A, seeds=(0, 1)), "elbo")
    with pytest.raises(ValueError, match="metric"):
        paired_difference(a, a, "log_px")
    with pytest.raises(TypeError, match="SeedSummary"):
        paired_difference(a, {"elbo": 1}, "elbo")


def test_train_over_seeds_repeats_separate_fit_calls():
    x = load_digits().train.x[:100]
    build = lambda: VAE(z_dim=2, hidden=(16,))  # noqa: E731
    kw = dict(epochs=2, batch_size=50, progress=False)
    s = train_over_seeds(build, x, seeds=(0, 1), **kw)
    for i, seed in enumerate((0, 1)):
        set_seed(seed)
        h = fit(build(), x, seed=seed, **kw)
        assert s.values["train_elbo"][i] == pytest.approx(h.train_elbo[-1], rel=1e-6)
    assert s.values["train_elbo"][0] != s.values["train_elbo"][1]  # the seed matters
    assert -1000 < s.mean["train_elbo"] < 0 and s.sd["train_elbo"] > 0
    custom = train_over_seeds(build, x, seeds=(0, 1), evaluate=lambda m, h: {"kl": h.train_kl[-1]}, **kw)
    assert set(custom.values) == {"kl"}
    with pytest.raises(TypeError, match="build"):
        train_over_seeds(None, x)
