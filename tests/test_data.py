"""vae_support.data: the fixed Digits split against scikit-learn's file, binarization, bad input."""
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits as sk_load_digits

from vae_support.data import DIGITS_SPLIT, Digits, Split, binarize, load_digits


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_split_sizes_types_and_file_order(digits):
    raw = sk_load_digits()
    assert isinstance(digits, Digits) and all(isinstance(s, Split) for s in digits)
    assert tuple(len(s.x) for s in digits) == DIGITS_SPLIT == (1000, 350, 447)
    for s in digits:
        assert s.x.dtype == torch.float32 and s.y.dtype == torch.int64 and s.x.shape[1] == 64
    x = torch.cat([s.x for s in digits]).numpy()
    y = torch.cat([s.y for s in digits]).numpy()
    np.testing.assert_array_equal(x, raw.data.astype(np.float32))
    np.testing.assert_array_equal(y, raw.target)
    assert float(digits.train.x.min()) == 0 and float(digits.train.x.max()) == 16


def test_binarized_variant_thresholds_at_half(digits):
    b = load_digits(binarize=True)
    torch.testing.assert_close(b.test.x, (digits.test.x / 16 > 0.5).float())
    assert set(b.train.x.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(b.val.y, digits.val.y)


def test_stochastic_binarization_matches_the_intensities():
    x = torch.full((20000, 1), 0.3)
    b = binarize(x, stochastic=True, generator=torch.Generator().manual_seed(0))
    assert abs(float(b.mean()) - 0.3) < 0.01  # 4.6 standard errors


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=torch.tensor([[2.0]])), "x: expected intensities in \\[0, 1\\]"),
    (dict(x=torch.tensor([[0.5]]), threshold=1.5), "threshold"),
    (dict(x=torch.tensor([[float("nan")]])), "x: expected finite"),
    (dict(x=torch.tensor([[3.0]]), levels=1), "levels"),
])
def test_binarize_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        binarize(**kwargs)


def test_load_digits_rejects_a_non_boolean_flag():
    with pytest.raises(ValueError, match="binarize"):
        load_digits(binarize="yes")
