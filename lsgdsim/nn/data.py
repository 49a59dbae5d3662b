"""Datasets (digits bundled with scikit-learn, MNIST IDX files, CIFAR-10 binary) and worker shards.

Nothing here downloads or unpickles: MNIST is read from IDX files and CIFAR-10 from its *binary*
version, both parsed with ``struct``/``np.frombuffer``. Images are floats (n, C, H, W) in [0, 1]
(no worker axis: workers index into them); labels are int64.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHARD_MODES = ("disjoint", "shared")


@dataclass(frozen=True)
class Dataset:
    """Train/test arrays: ``x_*`` (n, *input_shape) floats in [0, 1], ``y_*`` (n,) int64 in [0, classes)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.shape[0] != y.shape[0]:
                raise ValueError(f"{self.name}: x_{split} has {x.shape[0]} samples, y_{split} {y.shape[0]}")
            if y.size and (y.min() < 0 or y.max() >= self.classes):
                raise ValueError(f"{self.name}: y_{split} must lie in [0, {self.classes})")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"{self.name}: train and test samples differ in shape")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> Dataset:
        """The first ``n_train`` / ``n_test`` samples (for quick runs)."""
        return Dataset(self.name, self.x_train[:n_train], self.y_train[:n_train],
                       self.x_test[:n_test], self.y_test[:n_test], self.classes)


# -- scikit-learn digits ---------------------------------------------------------------------------
def load_digits(test_size: int = 360, seed: int = 0, dtype=np.float32) -> Dataset:
    """The 8x8 digits bundled with scikit-learn (1797 images, 10 classes; no download).

    Pixels 0..16 scaled to [0, 1], shape (n, 1, 8, 8); a stratified split with ``seed`` gives
    1437 train / 360 test samples by default.
    """
    from sklearn.datasets import load_digits as _sk_digits
    from sklearn.model_selection import train_test_split

    bunch = _sk_digits()
    x = (bunch.data / 16.0).astype(dtype).reshape(-1, 1, 8, 8)
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    return Dataset("digits", x_tr, y_tr, x_te, y_te, 10)


# -- MNIST (IDX) -----------------------------------------------------------------------------------
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Parse one IDX file (optionally gzipped): magic 0x0000, type code, rank, big-endian uint32 dims."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError; bad deflate data is not
        what = "a damaged or truncated .gz file" if path.suffix == ".gz" else "unreadable"
        raise ValueError(f"cannot read IDX file {path} ({what}): {' '.join(str(exc).split())}") from None
    if len(raw) < 4:
        raise ValueError(f"{path} is not an IDX file: {len(raw)} bytes, shorter than the header")
    zero, code, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _IDX_DTYPES or rank < 1:
        raise ValueError(f"{path} is not an IDX file: bad magic {raw[:4].hex()}")
    head = 4 + 4 * rank
    if len(raw) < head:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, rank {rank})")
    dims = struct.unpack(f">{rank}I", raw[4:head])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - head != expected:
        raise ValueError(f"{path}: IDX header says dims {dims} ({expected} data bytes); "
                         f"the file has {len(raw) - head}")
    return np.frombuffer(raw, dtype=dtype, offset=head).reshape(dims)


def _find(folder: Path, stem: str) -> Path:
    candidates = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    for name in candidates:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{stem}[.gz] not found in {folder}")


def load_mnist(folder, dtype=np.float32, name: str = "mnist") -> Dataset:
    """MNIST (or Fashion-MNIST) from the four IDX files in ``folder``, gzipped or not.

    Files: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
    t10k-labels-idx1-ubyte (each optionally ``.gz``). Images (n, 1, 28, 28) scaled to [0, 1].
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder {folder} does not exist")
    splits = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        img_path = _find(folder, f"{prefix}-images-idx3-ubyte")
        lab_path = _find(folder, f"{prefix}-labels-idx1-ubyte")
        images, labels = read_idx(img_path), read_idx(lab_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{img_path}: expected a uint8 (n, rows, cols) image array; got "
                             f"{images.dtype} of shape {images.shape}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"{lab_path}: expected {images.shape[0]} labels; got shape {labels.shape}")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{lab_path}: labels must be 0..9; found {int(labels.max())}")
        x = (images.astype(dtype) / np.dtype(dtype).type(255))[:, None]
        splits[split] = (x, labels.astype(np.int64))
    return Dataset(name, *splits["train"], *splits["test"], 10)


# -- CIFAR-10 (binary version) ---------------------------------------------------------------------
CIFAR10_RECORD = 1 + 3 * 32 * 32
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)  # the paper's normalization (codes/main.py)
CIFAR10_STD = (0.2023, 0.1994, 0.2010)


def read_cifar10_bin(path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes (R, G, B planes, 32x32)."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % CIFAR10_RECORD:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of {CIFAR10_RECORD}-byte "
                         f"CIFAR-10 records (is this the binary version?)")
    records = raw.reshape(-1, CIFAR10_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{path}: label byte {int(labels.max())} is not a CIFAR-10 class (0..9)")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def load_cifar10(folder, dtype=np.float32, normalize: bool = False) -> Dataset:
    """CIFAR-10 from the binary files data_batch_1.bin..data_batch_5.bin and test_batch.bin.

    ``folder`` may hold them directly or in ``cifar-10-batches-bin/``. Images (n, 3, 32, 32) in
    [0, 1]; ``normalize`` standardizes each channel with the paper's mean/std instead.
    The pickled "python version" of CIFAR-10 is deliberately not supported.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"CIFAR-10 folder {folder} does not exist")
    if not (folder / "test_batch.bin").is_file() and (folder / "cifar-10-batches-bin").is_dir():
        folder = folder / "cifar-10-batches-bin"
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 binary files missing in {folder}: {', '.join(missing)}")
    parts = [read_cifar10_bin(folder / n) for n in names]
    x_tr = np.concatenate([x for x, _ in parts[:5]])
    y_tr = np.concatenate([y for _, y in parts[:5]])
    x_te, y_te = parts[5]

    def scale(x):
        x = x.astype(dtype) / np.dtype(dtype).type(255)
        if normalize:
            mean = np.asarray(CIFAR10_MEAN, dtype).reshape(1, 3, 1, 1)
            std = np.asarray(CIFAR10_STD, dtype).reshape(1, 3, 1, 1)
            x = (x - mean) / std
        return x

    return Dataset("cifar10", scale(x_tr), y_tr, scale(x_te), y_te, 10)


# -- shards and mini-batches -----------------------------------------------------------------------
@dataclass(frozen=True)
class Shards:
    """Per-worker sample pools: worker i draws from ``pools[i, :sizes[i]]`` (``pools`` is padded)."""

    pools: np.ndarray  # (p, m) int64
    sizes: np.ndarray  # (p,) int64
    mode: str

    @property
    def workers(self) -> int:
        return int(self.pools.shape[0])

    def pool(self, i: int) -> np.ndarray:
        return self.pools[i, :self.sizes[i]]

    def indices(self, u, rows=None) -> np.ndarray:
        """Map uniform draws ``u`` (p, b) in [0, 1) to sample indices (p, b), one pool per row; with
        ``rows`` (an int array), ``u`` holds those workers' rows only (n, b)."""
        u = np.asarray(u, dtype=np.float64)
        rows = np.arange(self.workers) if rows is None else np.asarray(rows)
        if u.ndim != 2 or u.shape[0] != rows.shape[0] or rows.max(initial=0) >= self.workers:
            raise ValueError(f"u must have shape ({rows.shape[0]}, b) for workers below {self.workers}; got {u.shape}")
        sizes = self.sizes[rows][:, None]
        j = np.minimum((u * sizes).astype(np.int64), sizes - 1)
        return np.take_along_axis(self.pools[rows], j, axis=1)

    def draw(self, batch: int, rng: np.random.Generator) -> np.ndarray:
        """Mini-batch indices (p, batch): each worker samples its pool uniformly, with replacement."""
        if batch < 1:
            raise ValueError(f"batch must be a positive integer; got {batch!r}")
        return self.indices(rng.random((self.workers, batch)))


def shard(n_samples: int, workers: int, mode: str = "disjoint", seed: int = 0) -> Shards:
    """Split ``n_samples`` among ``workers``.

    ``'disjoint'``: a seeded permutation cut into ``workers`` pools whose sizes differ by at most one
    (every sample in exactly one pool, as PyTorch's DistributedSampler without padding).
    ``'shared'``: every worker draws from all samples.
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    if mode == "shared":
        pools = np.broadcast_to(np.arange(n_samples, dtype=np.int64), (workers, n_samples))
        return Shards(pools, np.full(workers, n_samples, dtype=np.int64), mode)
    if mode != "disjoint":
        raise ValueError(f"mode must be one of {', '.join(SHARD_MODES)}; got {mode!r}")
    if workers > n_samples:
        raise ValueError(f"disjoint shards need workers <= n_samples; got {workers} > {n_samples}")
    perm = np.random.default_rng(seed).permutation(n_samples)
    sizes = np.full(workers, n_samples // workers, dtype=np.int64)
    sizes[: n_samples % workers] += 1
    m = int(sizes[0])
    pools = np.zeros((workers, m), dtype=np.int64)
    col = np.arange(m)
    valid = col[None, :] < sizes[:, None]
    pools[valid] = perm  # row-major fill: pool i is the next sizes[i] entries of the permutation
    return Shards(pools, sizes, mode)
