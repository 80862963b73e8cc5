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


# ---------------------------------------------------------------- MNIST-format loaders, offline
import gzip  # noqa: E402
import hashlib  # noqa: E402
import struct  # noqa: E402

from vae_support.data import MNIST, FASHION_MNIST, fetch, load_idx_dataset, load_mnist, read_idx  # noqa: E402


def write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.tobytes())
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny_source(tmp_path):
    """A 'mirror' folder (reached by file:// URLs) with 5 training and 3 test 2×3 images."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    rng = np.random.default_rng(0)
    contents = {"train_images": rng.integers(0, 256, (5, 2, 3)), "train_labels": np.arange(5),
                "test_images": rng.integers(0, 256, (3, 2, 3)), "test_labels": [7, 8, 9]}
    files = {}
    for key, array in contents.items():
        name = MNIST["files"][key][0]
        files[key] = (name, write_idx(mirror / name, array))
    return {"mirrors": (mirror.as_uri() + "/",), "files": files}, contents


def test_idx_loader_downloads_checks_caches_and_parses(tiny_source, tmp_path):
    source, contents = tiny_source
    cache = tmp_path / "cache"
    data = load_idx_dataset(source, cache_dir=cache, sizes=(3, 2, 3))
    np.testing.assert_array_equal(data.train.x.numpy(), contents["train_images"][:3].reshape(3, 6))
    np.testing.assert_array_equal(data.val.x.numpy(), contents["train_images"][3:].reshape(2, 6))
    np.testing.assert_array_equal(data.test.y.numpy(), [7, 8, 9])
    assert data.train.x.dtype == torch.float32 and data.test.y.dtype == torch.int64
    assert sorted(p.name for p in cache.iterdir()) == sorted(n for n, _ in source["files"].values())
    # second call: offline mirror, served from the cache
    offline = {"mirrors": ("http://127.0.0.1:9/",), "files": source["files"]}
    again = load_idx_dataset(offline, cache_dir=cache, sizes=(3, 2, 3), binarize=True)
    torch.testing.assert_close(again.test.x, (data.test.x / 255 > 0.5).float())


def test_offline_failure_names_the_cache_folder(tiny_source, tmp_path):
    source, _ = tiny_source
    offline = {"mirrors": ("http://127.0.0.1:9/",), "files": source["files"]}
    with pytest.raises(ConnectionError, match=f"offline.*{tmp_path / 'empty'}"):
        load_idx_dataset(offline, cache_dir=tmp_path / "empty", sizes=(3, 2, 3))
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_mnist(cache_dir=tmp_path / "empty", download=False)


def test_checksum_mismatch_is_refused(tiny_source, tmp_path):
    source, _ = tiny_source
    name, _ = source["files"]["test_labels"]
    with pytest.raises(ConnectionError, match="SHA-256"):
        fetch(name, "0" * 64, source["mirrors"], tmp_path / "c1")
    assert not (tmp_path / "c1" / name).exists()
    (tmp_path / "c2").mkdir()
    (tmp_path / "c2" / name).write_bytes(b"corrupt")
    with pytest.raises(ValueError, match="delete it to re-download"):
        fetch(name, source["files"]["test_labels"][1], source["mirrors"], tmp_path / "c2")


def test_read_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(bad)
    short = tmp_path / "short.idx"
    short.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    with pytest.raises(ValueError, match="header announces 5"):
        read_idx(short)


def test_published_checksums_are_well_formed():
    for source in (MNIST, FASHION_MNIST):
        assert len(source["files"]) == 4
        for name, sha in source["files"].values():
            assert name.endswith("-ubyte.gz") and len(sha) == 64 and int(sha, 16) >= 0


# ---------------------------------------------------------------- augmentation
from vae_support.data import random_shift  # noqa: E402


def test_random_shift_moves_whole_images_by_at_most_one_pixel(digits):
    x = digits.train.x[:200]
    assert torch.equal(random_shift(x, p=0.0), x)
    out = random_shift(x, p=1.0, generator=torch.Generator().manual_seed(0))
    img = torch.nn.functional.pad(x.view(-1, 8, 8), (1, 1, 1, 1))
    candidates = torch.stack([img[:, 1 - dy:9 - dy, 1 - dx:9 - dx].reshape(-1, 64)
                              for dy in (-1, 0, 1) for dx in (-1, 0, 1)])  # [9, n, 64]
    matches = (candidates == out.unsqueeze(0)).all(-1)
    assert matches.any(0).all()  # every image is one of its nine shifts
    assert not matches[4].all()  # and not all of them stayed put (index 4: no shift)
    assert set(out.unique().tolist()) <= set(range(17))


def test_random_shift_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        random_shift(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="p: expected a probability"):
        random_shift(torch.zeros(2, 4), p=2.0)
    with pytest.raises(ValueError, match="x: expected a tensor"):
        random_shift(torch.zeros(4))
