"""Datasets, random_split and train_test_split."""

import numpy as np
import pytest

import ffnn
from ffnn.data import ArrayDataset, Subset, TensorDataset, random_split, train_test_split


def test_tensor_dataset_items_and_length():
    x = ffnn.tensor(np.arange(12.0).reshape(6, 2))
    y = np.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert isinstance(xi, ffnn.Tensor) and np.array_equal(xi.data, [8.0, 9.0])
    assert yi == 4


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"same size in the first dimension. Received: sizes "
                                         r"\[6, 5\]"):
        TensorDataset(np.zeros((6, 2)), np.zeros(5))


def test_array_dataset_converts_int_x_to_float32_and_keeps_float64():
    assert ArrayDataset(np.ones((3, 2), dtype=np.int32)).X.dtype == np.float32
    assert ArrayDataset(np.ones((3, 2))).X.dtype == np.float64


def test_array_dataset_rejects_nan_with_row_and_column():
    X = np.zeros((4, 3))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"X must contain only finite values .* at row 2, "
                                         r"column 1"):
        ArrayDataset(X)


def test_array_dataset_rejects_inf_in_y():
    y = np.array([0.0, np.inf, 1.0])
    with pytest.raises(ValueError, match=r"y must contain only finite values .*inf at row 1"):
        ArrayDataset(np.zeros((3, 2)), y)


def test_array_dataset_rejects_wrong_ndim_and_length_and_dtype():
    with pytest.raises(ValueError, match=r"X must be a 2-D .* Received: X with shape \(5,\)"):
        ArrayDataset(np.zeros(5))
    with pytest.raises(ValueError, match=r"Received: X with 3 rows, y with 4"):
        ArrayDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(TypeError, match=r"X must be a numeric array .* dtype <U1"):
        ArrayDataset(np.array([["a", "b"]]))


def test_subset_and_index_errors():
    ds = ArrayDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1] == 4 and sub[1][1] == 0
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 5\)"):
        Subset(ds, [5])


def test_random_split_fractions_like_torch_and_disjoint():
    ds = ArrayDataset(np.zeros((10, 1)))
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=ffnn.Generator(0))
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(ds, [1 / 3, 1 / 3, 1 / 3], generator=ffnn.Generator(0))
    assert [len(p) for p in parts] == [4, 3, 3]  # torch gives the remainder to the first
    all_idx = np.concatenate([p.indices for p in parts])
    assert np.array_equal(np.sort(all_idx), np.arange(10))


def test_random_split_seeded():
    ds = ArrayDataset(np.zeros((20, 1)))
    a = random_split(ds, [15, 5], generator=ffnn.Generator(3))
    b = random_split(ds, [15, 5], generator=ffnn.Generator(3))
    assert np.array_equal(a[1].indices, b[1].indices)


def test_random_split_bad_lengths():
    ds = ArrayDataset(np.zeros((10, 1)))
    with pytest.raises(ValueError, match=r"sum to the dataset size 10. Received: lengths=\[3, 3\]"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match=r"sum to 1. Received: lengths=\[0.5, 0.2\]"):
        random_split(ds, [0.5, 0.2])


def test_train_test_split_plain_partition():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    assert X_te.shape == (5, 2) and X_tr.shape == (15, 2)
    assert np.array_equal(np.sort(np.concatenate([y_tr, y_te])), y)
    assert np.array_equal(X_tr[:, 0], 2.0 * y_tr)  # rows stay paired with their labels
    again = train_test_split(X, y, test_size=0.25, random_state=0)
    assert np.array_equal(again[3], y_te)


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [100, 60, 40])
    X = np.arange(200.0)[:, None]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=1)
    assert np.array_equal(np.bincount(y_te), [25, 15, 10])
    assert np.array_equal(np.bincount(y_tr), [75, 45, 30])
    assert np.array_equal(y[X_te[:, 0].astype(int)], y_te)


def test_stratified_split_uneven_totals_match_and_proportions_close():
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=301, p=[0.6, 0.3, 0.1])
    _, _, y_tr, y_te = train_test_split(np.zeros((301, 1)), y, test_size=0.3, stratify=y,
                                        random_state=5)
    assert len(y_te) == int(np.ceil(0.3 * 301))
    overall = np.bincount(y, minlength=3) / 301
    assert np.abs(np.bincount(y_te, minlength=3) / len(y_te) - overall).max() < 1 / len(y_te)
    assert np.abs(np.bincount(y_tr, minlength=3) / len(y_tr) - overall).max() < 1 / len(y_tr)


def test_train_test_split_errors():
    X, y = np.zeros((10, 1)), np.zeros(10)
    with pytest.raises(ValueError, match=r"Received: test_size=1.5"):
        train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match=r"same number of samples. Received: X with shape "
                                         r"\(10, 1\), y with shape \(9,\)"):
        train_test_split(X, y[:9])
    with pytest.raises(ValueError, match=r"at least 2 samples. Received: class 1"):
        labels = np.array([0] * 9 + [1])
        train_test_split(X, labels, stratify=labels)
    with pytest.raises(TypeError, match=r"Received: random_state='x'"):
        train_test_split(X, y, random_state="x")


def test_concat_dataset_reads_its_parts_in_order_as_torch():
    import torch

    from ffnn.data import ConcatDataset, TensorDataset

    parts = [np.arange(3.0), np.arange(10.0, 15.0), np.arange(20.0, 22.0)]
    ours = ConcatDataset([TensorDataset(ffnn.tensor(p)) for p in parts])
    theirs = torch.utils.data.ConcatDataset(
        [torch.utils.data.TensorDataset(torch.tensor(p)) for p in parts])
    assert len(ours) == len(theirs) == 10 and ours.cumulative_sizes == theirs.cumulative_sizes
    for i in list(range(10)) + [-1, -10]:
        assert ours[i][0].item() == theirs[i][0].item()
    joined = TensorDataset(ffnn.tensor(parts[0])) + TensorDataset(ffnn.tensor(parts[1]))
    assert isinstance(joined, ConcatDataset) and len(joined) == 8 and joined[4][0].item() == 11.0
    batches = list(ffnn.data.DataLoader(ours, batch_size=4))
    assert [b[0].tolist() for b in batches][1] == [11.0, 12.0, 13.0, 14.0]
    with pytest.raises(IndexError, match="out of range"):
        ours[10]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_stack_dataset_reads_datasets_side_by_side_as_torchs():
    import torch
    import torch.utils.data as torch_data

    import ffnn.utils.data as ffnn_data

    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    batches = []
    for lib, data in ((ffnn, ffnn_data), (torch, torch_data)):
        features, labels = data.TensorDataset(lib.tensor(x)), data.TensorDataset(lib.tensor(y))
        as_tuple = data.StackDataset(features, labels)
        as_dict = data.StackDataset(x=features, y=labels)
        assert len(as_tuple) == len(as_dict) == 6
        first = next(iter(data.DataLoader(as_dict, batch_size=4)))
        batches.append((np.asarray(as_tuple[2][1][0]).tolist(), sorted(first),
                        np.asarray(first["x"][0]).tolist(), np.asarray(first["y"][0]).tolist()))
        for bad in ((features, data.TensorDataset(lib.tensor(y[:5]))), ()):
            with pytest.raises(ValueError):
                data.StackDataset(*bad)
        with pytest.raises(ValueError):
            data.StackDataset(features, y=labels)
    assert batches[0] == batches[1]
