"""The KMNIST data layer against hand-made files and hand-computed values.

The IDX format (LeCun's MNIST page): a big-endian 32-bit magic number
(2051 images, 2049 labels), one big-endian 32-bit size per dimension, then
exactly prod(sizes) unsigned bytes. KMNIST has 10 classes, labels 0..9.
"""
import gzip
import os
import struct

import numpy as np
import pytest
import torch

from lab.characters import kmnist
from conftest import write_idx


def write_split(root, images, labels, gz=False, split="test"):
    """Write one split's two files (and a small valid other split, so that all four files exist)."""
    folder = kmnist.raw_dir(root)
    os.makedirs(folder, exist_ok=True)
    other = "train" if split == "test" else "test"
    other_images, other_labels = small_split(count=10, seed=99)
    for name, array, magic in zip(kmnist.SPLITS[other], (other_images, other_labels), (2051, 2049)):
        write_idx(os.path.join(folder, name), array, magic)
    image_name, label_name = kmnist.SPLITS[split]
    suffix = ".gz" if gz else ""
    write_idx(os.path.join(folder, image_name + suffix), images, 2051)
    write_idx(os.path.join(folder, label_name + suffix), labels, 2049)
    return os.path.join(folder, image_name + suffix), os.path.join(folder, label_name + suffix)


def refused(root, path, split="test"):
    """load_split raises a DataError about this very file (not a 'files missing' one)."""
    with pytest.raises(kmnist.DataError) as err:
        kmnist.load_split(root, split, download=False)
    message = str(err.value)
    assert "not found" not in message and os.path.abspath(path) in message, message
    return message


def small_split(count=12, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)
    return images, labels


def test_read_idx_parses_a_hand_built_file(tmp_path):
    """Header bytes written out by hand: magic 2051, then 2, 28, 28, then the pixels."""
    pixels = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    path = tmp_path / "hand-idx3"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + pixels.tobytes())
    got = kmnist.read_idx(str(path), 2051, (28, 28))
    assert got.dtype == np.uint8 and got.shape == (2, 28, 28)
    assert np.array_equal(got, pixels)
    labels = tmp_path / "hand-idx1"
    labels.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]))
    assert kmnist.read_idx(str(labels), 2049, ()).tolist() == [7, 0, 9]


@pytest.mark.parametrize("gz", [False, True])
def test_label_ten_is_refused_and_nine_is_accepted(tmp_path, gz):
    images, labels = small_split()
    root = str(tmp_path / "ok")
    labels[3] = 9
    write_split(root, images, labels, gz=gz)
    _, got = kmnist.load_split(root, "test", download=False)
    assert got.tolist() == labels.tolist() and got.dtype == torch.int64

    bad = labels.copy()
    bad[5] = 10
    root = str(tmp_path / "bad")
    _, label_path = write_split(root, images, bad, gz=gz)
    assert "10" in refused(root, label_path)


@pytest.mark.parametrize("which", ["images", "labels"])
@pytest.mark.parametrize("gz", [False, True])
def test_file_longer_than_its_header_says_is_refused(tmp_path, which, gz):
    images, labels = small_split()
    image_path, label_path = write_split(str(tmp_path), images, labels, gz=gz)
    path = image_path if which == "images" else label_path
    kmnist.load_split(str(tmp_path), "test", download=False)  # fine before the change
    opener = gzip.open if gz else open
    with opener(path, "rb") as handle:
        data = handle.read()
    with opener(path, "wb") as handle:
        handle.write(data + b"\x00")  # one byte more than the header promises
    refused(str(tmp_path), path)


@pytest.mark.parametrize("cut", [1, 28 * 28, 28 * 28 * 12 + 3])
def test_truncated_file_is_refused(tmp_path, cut):
    images, labels = small_split()
    image_path, _ = write_split(str(tmp_path), images, labels)
    kmnist.load_split(str(tmp_path), "test", download=False)  # fine before the cut
    with open(image_path, "rb") as handle:
        data = handle.read()
    with open(image_path, "wb") as handle:
        handle.write(data[:-cut])  # the last cut removes even part of the header
    refused(str(tmp_path), image_path)


def test_wrong_magic_numbers_are_refused(tmp_path):
    """Images need 2051 (0x00000803), labels 2049 (0x00000801); each refuses the other's file."""
    images, labels = small_split()
    image_path, label_path = write_split(str(tmp_path), images, labels)
    kmnist.load_split(str(tmp_path), "test", download=False)
    write_idx(image_path, images, 2049)
    refused(str(tmp_path), image_path)
    write_idx(image_path, images, 2051)
    write_idx(label_path, labels, 2051)
    refused(str(tmp_path), label_path)
    hand = tmp_path / "hand"
    hand.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(784))  # 2049 on 28x28 items
    with pytest.raises(kmnist.DataError):
        kmnist.read_idx(str(hand), 2051, (28, 28))


def test_header_count_disagreeing_with_the_data_is_refused(tmp_path):
    """A header that promises 13 images over 12 images' bytes is as bad as a cut file."""
    images, _ = small_split()
    path = tmp_path / "images"
    path.write_bytes(struct.pack(">IIII", 2051, 13, 28, 28) + images.tobytes())
    with pytest.raises(kmnist.DataError):
        kmnist.read_idx(str(path), 2051, (28, 28))
    path.write_bytes(struct.pack(">IIII", 2051, 12, 28, 27) + images.tobytes()[:12 * 28 * 27])
    with pytest.raises(kmnist.DataError):
        kmnist.read_idx(str(path), 2051, (28, 28))


def test_normalise_maps_the_pixel_range_to_minus_one_one():
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1], images[0, 0, 2] = 0, 255, 51
    images[1, 27, 27] = 102
    before = images.copy()
    out = kmnist.normalise(images)
    assert out.shape == (2, 1, 28, 28) and out.dtype == torch.float32
    # (x / 255 - 0.5) / 0.5: 0 -> -1, 255 -> 1, 51 -> (0.2 - 0.5) / 0.5 = -0.6, 102 -> -0.2
    assert out[0, 0, 0, 0].item() == pytest.approx(-1.0, abs=1e-6)
    assert out[0, 0, 0, 1].item() == pytest.approx(1.0, abs=1e-6)
    assert out[0, 0, 0, 2].item() == pytest.approx(-0.6, abs=1e-6)
    assert out[1, 0, 27, 27].item() == pytest.approx(-0.2, abs=1e-6)
    assert out[1, 0, 0, 0].item() == pytest.approx(-1.0, abs=1e-6)
    assert np.array_equal(images, before)  # the raw data is left as it was


def test_load_split_normalises_and_keeps_image_label_pairs(tmp_path):
    images, labels = small_split(count=15, seed=4)
    write_split(str(tmp_path), images, labels, gz=True, split="train")
    x, y = kmnist.load_split(str(tmp_path), "train", download=False)
    expected = images.astype(np.float64) / 127.5 - 1.0  # the same map, written another way
    np.testing.assert_allclose(x[:, 0].double().numpy(), expected, atol=1e-6)
    assert y.tolist() == labels.tolist()


# ---------------------------------------------------------------- Batches
def numbered(count):
    """Images whose every pixel holds the item's index, labels the index too."""
    images = torch.arange(count, dtype=torch.float32).view(count, 1, 1, 1).expand(count, 1, 28, 28).contiguous()
    return images, torch.arange(count)


def epoch(batches, number):
    batches.set_epoch(number)
    sizes, labels = [], []
    for x, y in batches:
        assert torch.equal(x[:, 0, 5, 5], y.float())  # each image travels with its own label
        sizes.append(len(y))
        labels += y.tolist()
    return sizes, labels


def test_batches_cover_every_index_once_per_epoch_and_reshuffle():
    images, labels = numbered(23)
    batches = kmnist.Batches(images, labels, 5, shuffle=True, seed=11)
    assert len(batches) == 5  # ceil(23 / 5)
    orders = []
    for number in range(4):
        sizes, order = epoch(batches, number)
        assert sizes == [5, 5, 5, 5, 3]
        assert sorted(order) == list(range(23)), "every item exactly once"
        orders.append(order)
    assert len({tuple(o) for o in orders}) == 4, "each epoch has its own order"
    assert orders[0] != list(range(23))
    again = kmnist.Batches(images, labels, 5, shuffle=True, seed=11)
    assert epoch(again, 2)[1] == orders[2], "same seed and epoch, same order"
    other = kmnist.Batches(images, labels, 5, shuffle=True, seed=12)
    assert epoch(other, 2)[1] != orders[2]


def test_batches_without_shuffle_keep_the_file_order():
    images, labels = numbered(7)
    sizes, order = epoch(kmnist.Batches(images, labels, 3), 5)
    assert sizes == [3, 3, 1] and order == list(range(7))


# ---------------------------------------------------------------- shift_batch
def lone_pixel(row, col, value=1.0):
    image = -torch.ones(1, 1, 28, 28)
    image[0, 0, row, col] = value
    return image


@pytest.mark.parametrize("shift", [1, 2, 3])
def test_shift_moves_a_lone_pixel_by_shift_minus_offset_down_and_right(shift):
    row, col = 13, 9
    for down_offset in range(2 * shift + 1):
        for right_offset in range(2 * shift + 1):
            moved = kmnist.shift_batch(lone_pixel(row, col), torch.tensor([[down_offset, right_offset]]), shift)
            assert moved.shape == (1, 1, 28, 28)
            lit = (moved[0, 0] == 1.0).nonzero().tolist()
            expected = [row + shift - down_offset, col + shift - right_offset]
            assert lit == [expected], (shift, down_offset, right_offset)
            assert (moved == -1).sum() == 28 * 28 - 1


def test_shift_examples_from_the_docstring():
    image = lone_pixel(10, 20)
    # offset 0 with shift 2: two down, two right
    assert (kmnist.shift_batch(image, torch.tensor([[0, 0]]), 2)[0, 0] == 1).nonzero().tolist() == [[12, 22]]
    # offset 2*shift: two up, two left; offset shift: not at all
    assert (kmnist.shift_batch(image, torch.tensor([[4, 4]]), 2)[0, 0] == 1).nonzero().tolist() == [[8, 18]]
    assert torch.equal(kmnist.shift_batch(image, torch.tensor([[2, 2]]), 2), image)
    # rows and columns are separate: down only, then right only
    assert (kmnist.shift_batch(image, torch.tensor([[0, 2]]), 2)[0, 0] == 1).nonzero().tolist() == [[12, 20]]
    assert (kmnist.shift_batch(image, torch.tensor([[2, 0]]), 2)[0, 0] == 1).nonzero().tolist() == [[10, 22]]


def test_shift_fills_uncovered_pixels_with_background_minus_one():
    batch = torch.full((2, 1, 28, 28), 0.5)
    moved = kmnist.shift_batch(batch, torch.tensor([[0, 0], [3, 3]]), 3)  # 3 down and right; no move
    expected0 = torch.full((28, 28), 0.5)
    expected0[:3, :] = -1.0
    expected0[:, :3] = -1.0
    assert torch.equal(moved[0, 0], expected0)
    assert torch.equal(moved[1, 0], batch[1, 0])
    up_left = kmnist.shift_batch(batch[:1], torch.tensor([[6, 5]]), 3)  # 3 up, 2 left
    expected = torch.full((28, 28), 0.5)
    expected[-3:, :] = -1.0
    expected[:, -2:] = -1.0
    assert torch.equal(up_left[0, 0], expected)


def test_shift_each_image_by_its_own_offsets():
    batch = torch.cat([lone_pixel(5, 5), lone_pixel(20, 20), lone_pixel(14, 3)])
    # shift 1: offsets (0,1) one down; (2,2) one up and one left; (1,0) one right
    moved = kmnist.shift_batch(batch, torch.tensor([[0, 1], [2, 2], [1, 0]]), 1)
    assert [(moved[i, 0] == 1).nonzero().tolist() for i in range(3)] == [[[6, 5]], [[19, 19]], [[14, 4]]]


def test_batches_with_shift_move_each_image_within_the_range_and_use_every_offset():
    count, shift = 300, 1
    images = -torch.ones(count, 1, 28, 28)
    images[:, 0, 14, 14] = 1.0
    labels = torch.arange(count)
    batches = kmnist.Batches(images, labels, 64, shuffle=True, seed=3, shift=shift)
    moves = set()
    seen = []
    for x, y in batches:
        seen += y.tolist()
        for image in x[:, 0]:
            lit = (image == 1).nonzero().tolist()
            assert len(lit) == 1
            dr, dc = lit[0][0] - 14, lit[0][1] - 14
            assert abs(dr) <= shift and abs(dc) <= shift
            moves.add((dr, dc))
    assert sorted(seen) == list(range(count))
    assert len(moves) == 9  # all of -1..1 x -1..1 occur in 300 draws
    first = [x.clone() for x, _ in batches]
    assert all(torch.equal(a, b) for a, b in zip(first, [x for x, _ in batches])), "same epoch, same shifts"
