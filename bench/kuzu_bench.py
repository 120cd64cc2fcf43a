"""Time one training epoch of each net: the in-memory path against the course's path.

    KMNIST_DATA=../shared/data python3 bench/kuzu_bench.py

The course's path is torchvision's KMNIST dataset with ToTensor and Normalize
applied per image, batched by a DataLoader (batch 64, shuffled). The
in-memory path is the one kuzu_main.py uses: one normalised tensor, batched
by indexing. Both train the same model from the same initial weights, one
after the other in the same process, and the table gives the ratio.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import kmnist  # noqa: E402
from kuzu import NET_DEFAULTS, build_model  # noqa: E402
from runtime import UserError, run_main  # noqa: E402


def course_batches(root, batch_size):
    """The course's loader: torchvision dataset, per-image transforms, DataLoader."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    try:
        dataset = datasets.KMNIST(root=root, train=True, download=False, transform=transform)
    except RuntimeError as err:  # torchvision reads only the unpacked files
        raise UserError(f"the course's path needs torchvision's unpacked KMNIST files in {kmnist.raw_dir(root)}: {err}") from None
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)


def timed_epoch(model, batches, lr, mom):
    """Train one epoch; returns the seconds it took."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom)
    model.train()
    started = time.perf_counter()
    for images, labels in batches:
        optimizer.zero_grad(set_to_none=True)
        F.nll_loss(model(images), labels).backward()
        optimizer.step()
    return time.perf_counter() - started


def parse_sizes(parser, texts):
    """Filter counts written like 16x32 -> [(16, 32), ...]."""
    try:
        sizes = [tuple(int(c) for c in text.lower().split("x")) for text in texts]
    except ValueError:
        sizes = [()]
    if any(len(size) != 2 or min(size) < 1 for size in sizes):
        parser.error("--conv-filters takes sizes like 16x32")
    return sizes


def main(argv=None):
    """Time each net both ways and print a Markdown table with the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="*", choices=("lin", "full", "conv"), default=["lin", "full", "conv"],
                        help="which nets to time with their default sizes (default all three)")
    parser.add_argument("--full-hid", nargs="*", type=int, default=[], metavar="H",
                        help="also time NetFull with these hidden sizes, both paths")
    parser.add_argument("--conv-filters", nargs="*", default=[], metavar="C1xC2",
                        help="also time NetConv with these filter counts (e.g. 16x32), in-memory path only")
    parser.add_argument("--data", default=None, help="data directory (default $KMNIST_DATA, else ./data)")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    args = parser.parse_args(argv)
    if any(hid < 1 for hid in args.full_hid):
        parser.error("--full-hid takes sizes of at least 1")
    jobs = [(net, {}, True) for net in args.nets]
    jobs += [("full", {"hid": hid}, True) for hid in args.full_hid]
    jobs += [("conv", {"conv1": c1, "conv2": c2}, False) for c1, c2 in parse_sizes(parser, args.conv_filters)]

    root = kmnist.data_root(args.data)
    images, labels = kmnist.load_split(root, "train", download=False)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; one epoch of 60,000 images, batch {args.batch_size}")
    rows = []
    for net, sizes, both_paths in jobs:
        label = net + "".join(f" {key}={value}" for key, value in sizes.items())
        torch.manual_seed(0)
        initial = build_model(net, **sizes).state_dict()
        settings = NET_DEFAULTS[net]
        seconds = {}
        for path in ("course", "in-memory") if both_paths else ("in-memory",):
            model = build_model(net, **sizes)
            model.load_state_dict(initial)
            if path == "course":
                batches = course_batches(root, args.batch_size)
            else:  # as kuzu_main.py does it, random shifts included (the course's path has none)
                batches = kmnist.Batches(images, labels, args.batch_size, shuffle=True, seed=0,
                                         shift=settings["shift"])
            seconds[path] = timed_epoch(model, batches, settings["lr"], settings["mom"])
            print(f"{label:20s} {path:10s} {seconds[path]:7.1f} s", flush=True)
        rows.append((label, seconds.get("course"), seconds["in-memory"]))
    print("\n| net | course's path s/epoch | in-memory s/epoch | speed-up |\n|---|---|---|---|")
    for label, course, memory in rows:
        course_text, ratio = ("-", "-") if course is None else (f"{course:.1f}", f"{course / memory:.1f}x")
        print(f"| {label} | {course_text} | {memory:.1f} | {ratio} |")


if __name__ == "__main__":
    sys.exit(run_main(main))
