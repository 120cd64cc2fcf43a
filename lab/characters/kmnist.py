"""The KMNIST data layer: find, check and load Kuzushiji-MNIST into memory.

Each split becomes one normalised float tensor (mean 0.5, std 0.5, as in the
course) that is moved to the device once and batched by indexing, with a
seeded shuffle each epoch. The files are read in torchvision's layout
(``<data>/KMNIST/raw/``), unpacked or gzipped; when they are missing,
torchvision's KMNIST downloads them, and when that fails too the user gets
one paragraph that says where we looked and how to get the files.
"""
import gzip
import os
import shutil
import zlib

import numpy as np
import torch

from lab.common.errors import UserError

CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
SPLITS = {  # genuine sizes: 60,000 training and 10,000 test images; smaller sets (tests, subsets) load too
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
EXPECTED_FILES = [name for pair in SPLITS.values() for name in pair]
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049


class DataError(UserError):
    """The KMNIST files are missing, truncated or not what they claim to be."""


def data_root(flag=None):
    """The data directory: ``--data``, else $KMNIST_DATA, else ./data."""
    return flag or os.environ.get("KMNIST_DATA") or "data"


def raw_dir(root):
    """Where torchvision keeps KMNIST's files under ``root``."""
    return os.path.join(root, "KMNIST", "raw")


def _find(folder, name):
    """The path of ``name`` or ``name.gz`` in ``folder`` (unpacked preferred), or None."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


HOW_TO_GET = (
    "KMNIST is the four files " + ", ".join(EXPECTED_FILES) + " (each may also be gzipped, .gz). "
    "Get them by running once with internet access (torchvision downloads them into "
    "<data>/KMNIST/raw/), or point to a copy you have with --data DIR or the environment "
    "variable KMNIST_DATA=DIR, where DIR holds KMNIST/raw/."
)


def _missing_paragraph(root, missing, reason=""):
    lines = [f"KMNIST not found: looked in {os.path.abspath(raw_dir(root))}",
             "missing: " + ", ".join(missing) + "."]
    if reason:
        lines.append(reason)
    lines.append(HOW_TO_GET)
    return "\n".join(lines)


def _damaged(path, problem):
    """The DataError for a file that is there but wrong."""
    return DataError(f"KMNIST file {os.path.abspath(path)} {problem}.\n"
                     f"Delete it and download it again, or use another copy.\n{HOW_TO_GET}")


def ensure_files(root, download=True):
    """Make sure all four files are present under ``root``, downloading them if allowed.

    Returns the raw folder. Raises DataError with the full explanation when
    they are absent and cannot be downloaded.
    """
    folder = raw_dir(root)
    missing = [name for name in EXPECTED_FILES if _find(folder, name) is None]
    if not missing:
        return folder
    if not download:
        raise DataError(_missing_paragraph(root, missing, "(downloading was switched off with --no-download)"))
    created = _snapshot(root)
    try:
        from torchvision.datasets import KMNIST

        print(f"KMNIST not in {os.path.abspath(folder)}: downloading it with torchvision ...", flush=True)
        for train in (True, False):
            KMNIST(root, train=train, download=True)
    except BaseException as err:  # torchvision raises several kinds on a failed download; Ctrl-C too
        _remove_new(root, created)
        if not isinstance(err, Exception):
            raise
        raise DataError(_missing_paragraph(root, missing, f"The download failed: {err}")) from None
    still = [name for name in EXPECTED_FILES if _find(folder, name) is None]
    if still:
        raise DataError(_missing_paragraph(root, still, "The download finished but left these out."))
    return folder


def _snapshot(root):
    """The folders and files that exist under ``root``'s KMNIST/raw path before a download."""
    found = set()
    for path in (root, os.path.join(root, "KMNIST"), raw_dir(root)):
        if os.path.isdir(path):
            found.add(path)
            found.update(os.path.join(path, name) for name in os.listdir(path))
    return found


def _remove_new(root, before):
    """Remove what a failed download created under ``root`` (files and folders), deepest first."""
    for path in (raw_dir(root), os.path.join(root, "KMNIST"), root):
        if not os.path.isdir(path):
            continue
        for name in os.listdir(path):
            item = os.path.join(path, name)
            if item not in before and (os.path.isfile(item) or os.path.islink(item)):
                os.remove(item)
            elif item not in before and os.path.isdir(item) and item != raw_dir(root) and \
                    item != os.path.join(root, "KMNIST"):
                shutil.rmtree(item, ignore_errors=True)
        if path not in before and not os.listdir(path):
            os.rmdir(path)


def read_idx(path, magic, item_shape):
    """Read one IDX file (plain or gzipped), checking its magic number, item shape and exact size.

    Returns a uint8 numpy array of shape (count, *item_shape), count from the header.
    """
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error) as err:
        raise _damaged(path, f"cannot be read ({err}): it is damaged") from None
    header_len = 4 + 4 * (1 + len(item_shape))
    if len(data) < header_len:
        raise _damaged(path, f"is truncated ({len(data)} bytes, not even a header)")
    header = np.frombuffer(data[:header_len], dtype=">u4")
    if header[0] != magic:
        raise _damaged(path, f"has magic number {header[0]}, expected {magic}: not the right IDX file")
    dims = tuple(int(d) for d in header[1:])
    if dims[1:] != tuple(item_shape):
        raise _damaged(path, f"holds items of shape {dims[1:]}, expected {tuple(item_shape)}")
    expected_len = header_len + int(np.prod(dims))
    if len(data) != expected_len:
        raise _damaged(path, f"has {len(data)} bytes where its header promises {expected_len}: it is truncated or damaged")
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)


def normalise(images_uint8):
    """uint8 (N,28,28) -> float (N,1,28,28) with the course's normalisation (x/255 - 0.5) / 0.5."""
    images = torch.from_numpy(images_uint8.copy()).float().unsqueeze(1)
    return images.div_(255.0).sub_(0.5).div_(0.5)


def load_split(root, split, device="cpu", download=True):
    """Load one split ("train" or "test") as (images, labels) tensors on ``device``."""
    folder = ensure_files(root, download)
    images_path, labels_path = (_find(folder, name) for name in SPLITS[split])
    images = read_idx(images_path, IMAGE_MAGIC, (28, 28))
    labels = read_idx(labels_path, LABEL_MAGIC, ())
    if len(images) != len(labels):
        raise _damaged(labels_path, f"disagrees with {os.path.basename(images_path)}: {len(images)} images, {len(labels)} labels")
    if len(labels) == 0:
        raise _damaged(images_path, "holds no images (its header says 0): there is nothing to "
                       + ("train on" if split == "train" else "test on"))
    if labels.max() >= len(CLASSES):
        raise _damaged(labels_path, f"has label {labels.max()}, expected 0..9")
    return normalise(images).to(device), torch.from_numpy(labels.astype(np.int64)).to(device)


class Batches:
    """Mini-batches of an in-memory split, by indexing; reshuffled each epoch from a seed.

    ``shift`` > 0 moves each training image by a random whole number of
    pixels in -shift..shift along each axis (a cheap augmentation), done on
    the device for the whole batch at once. ``erase`` > 0 then blacks out an
    erase x erase square of each image around a random pixel (cutout; the
    square may stick out of the picture).
    """

    def __init__(self, images, labels, batch_size, shuffle=False, seed=0, shift=0, erase=0):
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.seed, self.shift = batch_size, shuffle, seed, shift
        self.erase = erase
        self.epoch = 0

    def __len__(self):
        return (len(self.labels) + self.batch_size - 1) // self.batch_size

    def set_epoch(self, epoch):
        """Choose the epoch whose shuffle (and shifts) the next iteration uses."""
        self.epoch = epoch

    def __iter__(self):
        count, device = len(self.labels), self.labels.device
        generator = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
        order = torch.randperm(count, generator=generator) if self.shuffle else torch.arange(count)
        order = order.to(device)
        offsets = None
        if self.shift:
            offsets = torch.randint(0, 2 * self.shift + 1, (count, 2), generator=generator).to(device)
        centres = None
        if self.erase:
            centres = torch.randint(0, self.images.shape[-1], (count, 2), generator=generator).to(device)
        for start in range(0, count, self.batch_size):
            index = order[start:start + self.batch_size]
            batch = self.images[index]
            if offsets is not None:
                batch = shift_batch(batch, offsets[start:start + self.batch_size], self.shift)
            if centres is not None:
                batch = erase_squares(batch, centres[start:start + self.batch_size], self.erase)
            yield batch, self.labels[index]


def erase_squares(batch, centres, size):
    """Black out (-1.0) in each (1,H,W) image the size x size square whose rows and columns start at
    centre - size // 2; ``centres`` (n,2) holds each image's (row, column). Returns a new batch."""
    first = centres - size // 2  # (n, 2)
    rows = torch.arange(batch.shape[-2], device=batch.device)
    cols = torch.arange(batch.shape[-1], device=batch.device)
    in_rows = (rows >= first[:, :1]) & (rows < first[:, :1] + size)  # (n, H)
    in_cols = (cols >= first[:, 1:]) & (cols < first[:, 1:] + size)  # (n, W)
    square = (in_rows[:, :, None] & in_cols[:, None, :]).unsqueeze(1)
    return batch.masked_fill(square, -1.0)


def shift_batch(batch, offsets, shift):
    """Move each (1,H,W) image by (shift - offset) pixels down and right, offsets (n,2) in 0..2*shift.

    Uncovered pixels get -1.0, the normalised value of KMNIST's black background.
    """
    n, _, height, width = batch.shape
    padded = torch.nn.functional.pad(batch, (shift, shift, shift, shift), value=-1.0)
    rows = offsets[:, 0, None] + torch.arange(height, device=batch.device)  # (n, H)
    cols = offsets[:, 1, None] + torch.arange(width, device=batch.device)  # (n, W)
    sample = torch.arange(n, device=batch.device)[:, None, None]
    return padded[sample, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)
