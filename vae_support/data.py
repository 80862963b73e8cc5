r"""Data sets of the course: Digits (offline default), MNIST and Fashion-MNIST (online, cached).

* :func:`load_digits` — scikit-learn's embedded 8×8 Digits (1797 images, pixel values 0..16,
  i.e. 17 levels), split in file order into train 1000 / validation 350 / test 447. Ships with
  scikit-learn, so it needs no network: every notebook of the book uses it.
* :func:`load_mnist` / :func:`load_fashion_mnist` — 28×28 images (values 0..255), downloaded
  once into a cache folder with SHA-256 checks. Offline, with an empty cache, they fail with a
  message that says so and names the cache folder.
* :func:`binarize` — threshold (or Bernoulli-sample) images into {0, 1} for Bernoulli
  likelihoods.

Every split is a :class:`Split` ``(x, y)``: ``x`` float32 ``[n, pixels]``, ``y`` int64 ``[n]``.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import struct
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ._checks import as_tensor, check_finite, check_integer, check_real

DIGITS_SPLIT = (1000, 350, 447)
"""Sizes of the fixed Digits split (train, validation, test), taken in file order."""

DIGITS_LEVELS = 17
"""Digits pixels take the integer values 0..16."""


class Split(NamedTuple):
    """One split of a data set: images ``x`` float32 [n, pixels] and labels ``y`` int64 [n]."""

    x: torch.Tensor
    y: torch.Tensor


class Digits(NamedTuple):
    """The three splits of a data set (the name is historical: MNIST loaders return it too)."""

    train: Split
    val: Split
    test: Split


def binarize(x, threshold: float = 0.5, levels: int | None = None, generator: torch.Generator | None = None,
             stochastic: bool = False) -> torch.Tensor:
    r"""Binarize images into {0., 1.}.

    With ``levels`` given, pixel values are first scaled to [0, 1] by :math:`x/(\text{levels}-1)`.
    Deterministic: :math:`b = \mathbb 1[x > \text{threshold}]`. Stochastic (dynamic
    binarization, Salakhutdinov & Murray 2008): :math:`b \sim \mathrm{Bernoulli}(x)`.

    Parameters
    ----------
    x : Tensor [n, pixels]
        Intensities in [0, 1] (or in 0..levels−1 when ``levels`` is given).
    threshold : float
        Cut in (0, 1) for the deterministic rule.
    levels : int, optional
        Number of integer levels of ``x`` (17 for Digits, 256 for MNIST).
    generator : torch.Generator, optional
        Random stream for ``stochastic=True``.
    stochastic : bool
        Sample instead of thresholding.

    Returns
    -------
    Tensor [n, pixels], float32 with values 0 and 1.
    """
    x = check_finite("x", as_tensor("x", x)).float()
    if levels is not None:
        levels = check_integer("levels", levels, minimum=2)
        x = x / (levels - 1)
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"x: expected intensities in [0, 1] (pass levels= for integer pixels), got range "
                         f"[{float(x.min()):.4g}, {float(x.max()):.4g}]")
    if not 0 < float(threshold) < 1:
        raise ValueError(f"threshold: expected a number in (0, 1), got {threshold!r}")
    if stochastic:
        return torch.bernoulli(x, generator=generator)
    return (x > threshold).float()


_binarize = binarize  # load_digits has an argument of the same name


def random_shift(x: torch.Tensor, max_shift: int = 1, p: float = 0.5, side: int | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate each square image by a random whole number of pixels, filling with zeros.

    Data augmentation for training (pass ``augment=random_shift`` to
    :func:`vae_support.train.fit`): with probability ``p`` an image moves by
    (dy, dx) drawn uniformly from {−max_shift..max_shift}²; pixel values are kept, so the
    result stays in the likelihood's support.

    Parameters
    ----------
    x : Tensor [n, side·side]
    max_shift : int
        Largest shift in pixels.
    p : float
        Probability that an image is shifted.
    side : int, optional
        Image side; default ``sqrt(x.shape[1])``.
    generator : torch.Generator, optional

    Returns
    -------
    Tensor [n, side·side], same dtype and device as ``x``.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        raise ValueError(f"x: expected a tensor [n, side*side], got {getattr(x, 'shape', type(x).__name__)}")
    side = side or int(round(x.shape[1] ** 0.5))
    if side * side != x.shape[1]:
        raise ValueError(f"x: expected square images, {x.shape[1]} pixels is not side*side (side={side})")
    check_finite("x", x)
    max_shift = check_integer("max_shift", max_shift, minimum=0)
    p = check_real("p", p)
    if not 0 <= p <= 1:
        raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
    n, m = x.shape[0], max_shift
    img = torch.nn.functional.pad(x.view(n, side, side), (m, m, m, m))
    kw = dict(generator=generator, device=x.device)
    moved = torch.rand(n, **kw) < p
    dy = torch.randint(-m, m + 1, (n,), **kw) * moved
    dx = torch.randint(-m, m + 1, (n,), **kw) * moved
    grid = torch.arange(side, device=x.device)
    rows = (grid + m - dy[:, None])[:, :, None]
    cols = (grid + m - dx[:, None])[:, None, :]
    return img[torch.arange(n, device=x.device)[:, None, None], rows, cols].reshape(n, side * side)


def split_in_order(x: torch.Tensor, y: torch.Tensor, sizes: tuple[int, int, int]) -> Digits:
    """Split ``(x, y)`` in file order into train / validation / test of the given ``sizes``."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"x, y: expected tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.dim() < 1 or y.dim() < 1 or len(x) != len(y):
        raise ValueError(f"x, y: expected the same number of images and labels, got shapes {tuple(x.shape)} and {tuple(y.shape)}")
    try:
        sizes = tuple(check_integer("sizes", s, minimum=0) for s in sizes)
    except TypeError as err:
        raise TypeError(f"sizes: expected three non-negative integers, got {sizes!r}") from err
    if len(sizes) != 3 or sum(sizes) > len(x):
        raise ValueError(f"sizes: expected three sizes summing to at most {len(x)}, got {sizes!r}")
    a, b, c = sizes
    cuts = ((0, a), (a, a + b), (a + b, a + b + c))
    return Digits(*(Split(x[i:j], y[i:j]) for i, j in cuts))


def load_digits(binarize: bool = False) -> Digits:
    r"""scikit-learn's 8×8 Digits with the course's fixed split (train 1000 / val 350 / test 447).

    The 1797 images are taken in file order (no shuffling, so every reader gets the same split).
    Pixels are integers 0..16 (17 levels, modelled by a categorical likelihood); with
    ``binarize=True`` they become :math:`\mathbb 1[x/16 > 1/2]`, for a Bernoulli likelihood.

    Parameters
    ----------
    binarize : bool
        Return 0/1 pixels instead of 0..16.

    Returns
    -------
    Digits
        ``train``, ``val``, ``test``: each a :class:`Split` with ``x`` float32 [n, 64] and
        ``y`` int64 [n] (the digit 0..9).
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    if not isinstance(binarize, bool):
        raise ValueError(f"binarize: expected True or False, got {binarize!r}")
    bunch = _sk_load_digits()
    x = torch.as_tensor(bunch.data, dtype=torch.float32)
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    if binarize:
        x = _binarize(x, levels=DIGITS_LEVELS)
    return split_in_order(x, y, DIGITS_SPLIT)


# ------------------------------------------------------------------ MNIST and Fashion-MNIST
IDX_SPLIT = (50000, 10000, 10000)
"""MNIST-style split: the first 50 000 training images, the last 10 000 for validation, the test set."""

MNIST = {
    "mirrors": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "files": {
        "train_images": ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        "train_labels": ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        "test_images": ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        "test_labels": ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    },
}
FASHION_MNIST = {
    "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
    "files": {
        "train_images": ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        "train_labels": ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        "test_images": ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        "test_labels": ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    },
}
"""Download sources and published SHA-256 of the gzipped IDX files (as pinned by TFDS / Keras)."""


def default_cache_dir() -> Path:
    """Cache folder of downloaded data: ``$VAE_SUPPORT_DATA`` or ``~/.cache/vae_support``."""
    return Path(os.environ.get("VAE_SUPPORT_DATA", Path.home() / ".cache" / "vae_support")).expanduser()


def sha256_of(path) -> str:
    """Hex SHA-256 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_idx(path) -> np.ndarray:
    """Parse an IDX file (LeCun's format; gzipped or not) of unsigned bytes into a NumPy array.

    Header: two zero bytes, type code 0x08 (uint8), the number of dimensions, then each size as
    a big-endian uint32; the data follow in C order.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no file at {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] == 0:
        raise ValueError(f"path: {path.name} is not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"path: {path.name} is truncated (incomplete IDX header)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    count = int(np.prod(shape))
    if len(raw) - header != count:
        raise ValueError(f"path: {path.name} holds {len(raw) - header} bytes of data, the header announces {count}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


DOWNLOAD_DEADLINE = 300.0
"""Seconds a download of one file may take from one mirror, all reads together (then the next mirror)."""

READ_TIMEOUT = 30.0
"""Seconds one network read may wait (also bounded by what is left of the deadline)."""

_TRANSPORT_ERRORS = (urllib.error.URLError, OSError, http.client.HTTPException, TimeoutError)


def _download(url: str, part: Path, deadline: float) -> None:
    """Stream ``url`` into ``part``, raising ``TimeoutError`` once ``deadline`` seconds have passed overall.

    ``read1`` returns after each network read, so a server that trickles bytes cannot hold the
    loop past the deadline by more than one read timeout.
    """
    end = time.monotonic() + deadline
    with urllib.request.urlopen(url, timeout=min(READ_TIMEOUT, deadline)) as response, open(part, "wb") as fh:
        while chunk := response.read1(1 << 16):
            fh.write(chunk)
            if time.monotonic() > end:
                raise TimeoutError(f"the download took longer than the deadline of {deadline:g} s")


def _check_fetch_args(filename, sha256, mirrors, deadline) -> tuple[list[str], float]:
    if not isinstance(filename, str) or not filename or "/" in filename or "\\" in filename:
        raise ValueError(f"filename: expected a plain file name, got {filename!r}")
    if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256.lower()):
        raise ValueError(f"sha256: expected 64 hexadecimal digits, got {sha256!r}")
    mirrors = [mirrors] if isinstance(mirrors, str) else list(mirrors) if isinstance(mirrors, (list, tuple)) else []
    if not mirrors or not all(isinstance(m, str) and m.endswith("/") for m in mirrors):
        raise ValueError(f"mirrors: expected a non-empty list of base URLs ending with '/', got {mirrors!r}")
    deadline = float(deadline) if isinstance(deadline, (int, float)) and not isinstance(deadline, bool) else float("nan")
    if not 0 < deadline < float("inf"):
        raise ValueError(f"deadline: expected a positive number of seconds, got {deadline!r}")
    return mirrors, deadline


def fetch(filename: str, sha256: str, mirrors, cache_dir=None, download: bool = True,
          deadline: float = DOWNLOAD_DEADLINE) -> Path:
    """Return the cached path of ``filename``, downloading it from ``mirrors`` if needed.

    A cached file is used only if its SHA-256 matches. A download streams into
    ``<filename>.part`` and is renamed into the cache only once its SHA-256 matches; on any
    failure (transport error, truncated response, checksum, deadline) the ``.part`` file is
    removed and the next mirror is tried. Each mirror gets ``deadline`` seconds overall (each
    read also waits at most :data:`READ_TIMEOUT`). Offline (every mirror failed) or with
    ``download=False`` and no cached copy, raises ``ConnectionError`` / ``FileNotFoundError``
    with a message naming the cache folder, so the reader can place the file there by hand.
    """
    mirrors, deadline = _check_fetch_args(filename, sha256, mirrors, deadline)
    sha256 = sha256.lower()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / filename
    if path.is_file():
        actual = sha256_of(path)
        if actual != sha256:
            raise ValueError(f"{filename}: cached file {path} has SHA-256 {actual}, expected {sha256}; delete it to re-download")
        return path
    if not download:
        raise FileNotFoundError(f"{filename}: not in the cache folder {cache} and download=False; "
                                f"download it (online) or copy it into {cache}")
    cache.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    errors = []
    for mirror in mirrors:
        try:
            _download(mirror + filename, part, deadline)
            actual = sha256_of(part)
            if actual != sha256:
                errors.append(f"{mirror}: SHA-256 {actual} != expected {sha256}")
                continue
            part.replace(path)
            return path
        except _TRANSPORT_ERRORS as err:
            errors.append(f"{mirror}: {type(err).__name__}: {err}")
        finally:
            part.unlink(missing_ok=True)
    raise ConnectionError(f"{filename}: could not download it (offline?). Tried: {'; '.join(errors)}. "
                          f"Copy the file into the cache folder {cache} to use it offline.")


def load_idx_dataset(source: dict, cache_dir=None, download: bool = True, binarize: bool = False,
                     sizes: tuple[int, int, int] = IDX_SPLIT) -> Digits:
    """Load an MNIST-format data set described by ``source`` (``mirrors`` and ``files``; see :data:`MNIST`).

    Returns train / validation (the first and last parts of the official training file, in
    order) and test, with ``x`` float32 [n, rows·cols] in 0..255 (or 0/1 with ``binarize``,
    threshold at 128/255 > 1/2) and ``y`` int64.
    """
    arrays = {key: read_idx(fetch(name, sha, source["mirrors"], cache_dir, download))
              for key, (name, sha) in source["files"].items()}
    xs = [torch.as_tensor(arrays[f"{s}_images"].reshape(len(arrays[f"{s}_images"]), -1), dtype=torch.float32)
          for s in ("train", "test")]
    ys = [torch.as_tensor(arrays[f"{s}_labels"].astype(np.int64)) for s in ("train", "test")]
    for x, y, s in zip(xs, ys, ("train", "test")):
        if len(x) != len(y):
            raise ValueError(f"{s}: {len(x)} images but {len(y)} labels")
    n_train, n_val, n_test = sizes
    if n_train + n_val > len(xs[0]) or n_test > len(xs[1]):
        raise ValueError(f"sizes: {sizes} does not fit {len(xs[0])} training and {len(xs[1])} test images")
    if binarize:
        xs = [_binarize(x, levels=256) for x in xs]
    first = split_in_order(xs[0], ys[0], (n_train, n_val, 0))
    return Digits(first.train, first.val, Split(xs[1][:n_test], ys[1][:n_test]))


def load_mnist(cache_dir=None, download: bool = True, binarize: bool = False) -> Digits:
    """MNIST (LeCun et al., 1998): 28×28 digits, train 50 000 / val 10 000 / test 10 000.

    Downloaded once into ``cache_dir`` (default :func:`default_cache_dir`) with SHA-256 checks;
    offline it fails with a message naming the cache folder. See :func:`load_idx_dataset`.
    """
    return load_idx_dataset(MNIST, cache_dir, download, binarize)


def load_fashion_mnist(cache_dir=None, download: bool = True, binarize: bool = False) -> Digits:
    """Fashion-MNIST (Xiao et al., 2017): 28×28 clothing images, same format and split as :func:`load_mnist`."""
    return load_idx_dataset(FASHION_MNIST, cache_dir, download, binarize)
