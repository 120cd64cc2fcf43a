"""The KMNIST data layer on small synthetic IDX files, through the real loader."""
import os

import pytest
import torch

from lab.characters import kmnist
from conftest import write_idx


def test_loads_shapes_labels_and_normalisation(synthetic_kmnist):
    root, (train_images, train_labels, test_images, test_labels) = synthetic_kmnist
    images, labels = kmnist.load_split(root, "train", download=False)
    assert images.shape == (640, 1, 28, 28) and images.dtype == torch.float32
    assert labels.tolist() == train_labels.tolist()
    expected = (torch.from_numpy(train_images).float() / 255 - 0.5) / 0.5
    assert torch.allclose(images[:, 0], expected)
    assert images.min() >= -1 and images.max() == 1
    test_x, test_y = kmnist.load_split(root, "test", download=False)
    assert test_x.shape == (200, 1, 28, 28) and test_y.tolist() == test_labels.tolist()


def test_data_root_prefers_flag_then_environment(monkeypatch):
    monkeypatch.setenv("KMNIST_DATA", "/from/env")
    assert kmnist.data_root("/from/flag") == "/from/flag"
    assert kmnist.data_root(None) == "/from/env"
    monkeypatch.delenv("KMNIST_DATA")
    assert kmnist.data_root(None) == "data"


def test_batches_shuffle_is_seeded_and_covers_every_item():
    images = torch.arange(100, dtype=torch.float32).view(100, 1, 1, 1).expand(100, 1, 28, 28).contiguous()
    labels = torch.arange(100)

    def epoch_order(seed, epoch):
        batches = kmnist.Batches(images, labels, 32, shuffle=True, seed=seed)
        batches.set_epoch(epoch)
        return torch.cat([y for _, y in batches]).tolist()

    first = epoch_order(1, 1)
    assert sorted(first) == list(range(100)) and first != list(range(100))
    assert first == epoch_order(1, 1)
    assert first != epoch_order(1, 2) and first != epoch_order(2, 1)
    assert len(kmnist.Batches(images, labels, 32)) == 4
    for x, y in kmnist.Batches(images, labels, 32, shuffle=True, seed=3):
        assert torch.equal(x[:, 0, 0, 0], y.float())  # images stay with their labels


def test_shift_moves_images_by_the_offsets_and_pads_with_background():
    batch = -torch.ones(2, 1, 28, 28)
    batch[:, 0, 10, 12] = 1.0
    offsets = torch.tensor([[0, 4], [2, 2]])  # shift 2: two down and two left; no move
    batch[0, 0, 0, :] = 1.0  # a top row that moves down, leaving background above it
    moved = kmnist.shift_batch(batch, offsets, 2)
    assert moved.shape == batch.shape
    assert moved[0, 0, 12, 10] == 1 and moved[0, 0, 2, :26].eq(1).all()
    assert moved[0, 0, :2].eq(-1).all() and moved[0, 0, :, 26:].eq(-1).all()
    assert torch.equal(moved[1], batch[1])


def test_missing_files_name_the_directory_and_the_four_files(tmp_path):
    with pytest.raises(kmnist.DataError) as err:
        kmnist.load_split(str(tmp_path), "train", download=False)
    message = str(err.value)
    assert os.path.abspath(kmnist.raw_dir(str(tmp_path))) in message
    for name in kmnist.EXPECTED_FILES:
        assert name in message
    assert "--data" in message and "KMNIST_DATA" in message


def test_failed_download_is_explained(tmp_path, monkeypatch):
    import torchvision.datasets

    def no_network(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets, "KMNIST", no_network)
    with pytest.raises(kmnist.DataError, match="The download failed: Error downloading"):
        kmnist.load_split(str(tmp_path), "train", download=True)


def test_truncated_file_is_detected(synthetic_kmnist):
    root, _ = synthetic_kmnist
    path = os.path.join(kmnist.raw_dir(root), "t10k-images-idx3-ubyte")
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[:-100])
    with pytest.raises(kmnist.DataError, match="truncated"):
        kmnist.load_split(root, "test", download=False)


def test_damaged_gzip_and_wrong_magic_are_detected(synthetic_kmnist):
    root, (train_images, *_) = synthetic_kmnist
    folder = kmnist.raw_dir(root)
    gz_path = os.path.join(folder, "train-images-idx3-ubyte.gz")
    with open(gz_path, "rb") as handle:
        data = handle.read()
    with open(gz_path, "wb") as handle:
        handle.write(data[: len(data) // 2])
    with pytest.raises(kmnist.DataError, match="damaged"):
        kmnist.load_split(root, "train", download=False)
    corrupt = bytearray(data)
    corrupt[100:140] = bytes(40)  # zeros inside the deflate stream
    with open(gz_path, "wb") as handle:
        handle.write(bytes(corrupt))
    with pytest.raises(kmnist.DataError, match="damaged") as err:
        kmnist.load_split(root, "train", download=False)
    assert "KMNIST_DATA" in str(err.value)  # the paragraph says how to get good files
    write_idx(gz_path, train_images, 2049)  # a labels magic number on an images file
    with pytest.raises(kmnist.DataError, match="magic number 2049, expected 2051"):
        kmnist.load_split(root, "train", download=False)


def test_images_and_labels_must_agree_in_number(synthetic_kmnist):
    root, (_, _, test_images, test_labels) = synthetic_kmnist
    write_idx(os.path.join(kmnist.raw_dir(root), "t10k-labels-idx1-ubyte"), test_labels[:-1], 2049)
    with pytest.raises(kmnist.DataError, match="200 images, 199 labels"):
        kmnist.load_split(root, "test", download=False)


def test_real_kmnist_has_the_published_shapes(real_kmnist_root):
    images, labels = kmnist.load_split(real_kmnist_root, "test", download=False)
    assert images.shape == (10000, 1, 28, 28)
    assert torch.bincount(labels).tolist() == [1000] * 10
    assert int(labels[0]) == 2  # the first test target, as torchvision reads it
