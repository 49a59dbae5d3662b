"""Data loading (digits, MNIST IDX, CIFAR-10 binary) and worker shards."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgdsim.nn import Dataset, load_cifar10, load_digits, load_mnist, read_idx, shard

SETTINGS = settings(max_examples=15, deadline=None)


def idx_bytes(a: np.ndarray, code: int = 0x08) -> bytes:
    """The IDX format: 0x0000, type code, rank, big-endian uint32 dims, big-endian data."""
    dt = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    return (struct.pack(">HBB", 0, code, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
            + a.astype(dt).tobytes())


def write_mnist(folder, n_train=5, n_test=3, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, arr, rank in (("images", images, 3), ("labels", labels, 1)):
            name = f"{prefix}-{kind}-idx{rank}-ubyte" + (".gz" if gz else "")
            raw = idx_bytes(arr)
            (folder / name).write_bytes(gzip.compress(raw) if gz else raw)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_round_trip(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    ds = load_mnist(tmp_path)
    assert ds.input_shape == (1, 28, 28) and ds.classes == 10
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_allclose(ds.x_train[:, 0] * 255, arrays["train"][0], atol=1e-4)
    np.testing.assert_array_equal(ds.y_train, arrays["train"][1])
    np.testing.assert_array_equal(ds.y_test, arrays["t10k"][1])
    assert ds.n_train == 5 and ds.n_test == 3


def test_read_idx_other_types(tmp_path):
    a = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(a, 0x0C))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), a)
    f = np.linspace(0, 1, 5, dtype=np.float32)
    (tmp_path / "f.idx").write_bytes(idx_bytes(f, 0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx"), f)


def test_mnist_missing_and_malformed(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.*" + str(tmp_path.name)):
        load_mnist(tmp_path)
    write_mnist(tmp_path)
    img = tmp_path / "train-images-idx3-ubyte"
    good = img.read_bytes()
    img.write_bytes(b"\x01\x02" + good[2:])
    with pytest.raises(ValueError, match="bad magic"):
        load_mnist(tmp_path)
    img.write_bytes(good[:-10])
    with pytest.raises(ValueError, match="data bytes"):
        load_mnist(tmp_path)
    img.write_bytes(good[:6])
    with pytest.raises(ValueError, match="truncated IDX header"):
        load_mnist(tmp_path)
    img.write_bytes(idx_bytes(np.zeros((4, 28, 28), np.uint8)))   # 4 images, 5 labels
    with pytest.raises(ValueError, match="expected 4 labels"):
        load_mnist(tmp_path)
    img.write_bytes(idx_bytes(np.zeros((5, 784), np.uint8)))
    with pytest.raises(ValueError, match="image array"):
        load_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cannot read IDX"):
        load_mnist(tmp_path)


def cifar_records(n, rng):
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    pixels = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return labels, pixels, np.concatenate([labels[:, None], pixels], axis=1).tobytes()


def write_cifar(folder, per_batch=2, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels, pixels, raw = cifar_records(per_batch, rng)
        (folder / name).write_bytes(raw)
        out[name] = (labels, pixels)
    return out


def test_cifar10_binary_round_trip(tmp_path):
    records = write_cifar(tmp_path / "cifar-10-batches-bin")
    ds = load_cifar10(tmp_path)  # finds the standard sub-folder
    assert ds.x_train.shape == (10, 3, 32, 32) and ds.x_test.shape == (2, 3, 32, 32)
    labels3, pixels3 = records["data_batch_3.bin"]
    np.testing.assert_array_equal(ds.y_train[4:6], labels3)
    # record layout: 1024 red, then 1024 green, then 1024 blue bytes, each row-major 32x32
    np.testing.assert_allclose(ds.x_train[4, 1, 2, 5] * 255, pixels3[0, 1024 + 2 * 32 + 5], atol=1e-4)
    np.testing.assert_allclose(ds.x_test[1, 2, 31, 31] * 255, records["test_batch.bin"][1][1, 3071], atol=1e-4)
    norm = load_cifar10(tmp_path / "cifar-10-batches-bin", normalize=True)
    np.testing.assert_allclose(norm.x_train[0, 0], (ds.x_train[0, 0] - 0.4914) / 0.2023, rtol=1e-5)


def test_cifar10_missing_and_malformed(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_cifar10(tmp_path / "nowhere")
    write_cifar(tmp_path)
    (tmp_path / "data_batch_4.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"data_batch_4\.bin"):
        load_cifar10(tmp_path)
    (tmp_path / "data_batch_4.bin").write_bytes(b"\x00" * 3072)
    with pytest.raises(ValueError, match="3073-byte"):
        load_cifar10(tmp_path)
    (tmp_path / "data_batch_4.bin").write_bytes(b"\x0c" + b"\x00" * 3072)
    with pytest.raises(ValueError, match="not a CIFAR-10 class"):
        load_cifar10(tmp_path)


def test_digits_shapes_split_and_scale():
    ds = load_digits()
    assert (ds.n_train, ds.n_test) == (1437, 360) and ds.input_shape == (1, 8, 8)
    assert ds.x_train.dtype == np.float32 and 0 <= ds.x_train.min() and ds.x_train.max() == 1.0
    assert np.all(np.abs(np.bincount(ds.y_test, minlength=10) - 36) <= 1)   # stratified
    again = load_digits()
    np.testing.assert_array_equal(again.y_train, ds.y_train)
    assert not np.array_equal(load_digits(seed=1).y_train, ds.y_train)
    small = ds.subset(100, 50)
    assert (small.n_train, small.n_test) == (100, 50)


def test_dataset_validation():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="samples"):
        Dataset("bad", x, np.zeros(2, int), x, np.zeros(3, int), 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        Dataset("bad", x, np.array([0, 1, 2]), x, np.zeros(3, int), 2)


# -- shards ----------------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 200), workers=st.integers(1, 12), seed=st.integers(0, 1000))
def test_disjoint_shards_partition_the_samples(n, workers, seed):
    if workers > n:
        with pytest.raises(ValueError, match="workers <= n_samples"):
            shard(n, workers, "disjoint", seed)
        return
    s = shard(n, workers, "disjoint", seed)
    pools = [s.pool(i) for i in range(workers)]
    assert sorted(np.concatenate(pools).tolist()) == list(range(n))   # every sample exactly once
    assert max(map(len, pools)) - min(map(len, pools)) <= 1
    idx = s.draw(7, np.random.default_rng(seed))
    assert idx.shape == (workers, 7)
    for i in range(workers):
        assert set(idx[i]) <= set(pools[i].tolist())
    np.testing.assert_array_equal(shard(n, workers, "disjoint", seed).pools, s.pools)


@SETTINGS
@given(n=st.integers(1, 50), workers=st.integers(1, 6), seed=st.integers(0, 1000))
def test_shared_shards_draw_from_everything(n, workers, seed):
    s = shard(n, workers, "shared", seed)
    for i in range(workers):
        np.testing.assert_array_equal(s.pool(i), np.arange(n))
    idx = s.draw(3, np.random.default_rng(seed))
    assert idx.shape == (workers, 3) and idx.min() >= 0 and idx.max() < n


def test_shard_draws_are_uniform_and_edge_safe():
    s = shard(10, 2, "disjoint", 0)
    idx = s.draw(20000, np.random.default_rng(0))
    for i in range(2):
        counts = np.array([np.sum(idx[i] == k) for k in s.pool(i)])
        assert counts.min() > 3600 and counts.max() < 4400   # 5 samples, 4000 expected each
    top = s.indices(np.full((2, 1), np.nextafter(1.0, 0.0)))
    np.testing.assert_array_equal(top[:, 0], [s.pool(0)[-1], s.pool(1)[-1]])
    with pytest.raises(ValueError, match="mode"):
        shard(10, 2, "random")
    with pytest.raises(ValueError, match="batch"):
        s.draw(0, np.random.default_rng(0))
