"""Time one training epoch of each net side by side: the lab's in-memory path, the course's path, and NetConv
against the NetConv of earlier versions (32/64 filters), at each thread count asked for.

    KMNIST_DATA=../shared/data python3 bench/kuzu_bench.py                 # lin, full, conv; 1 and 2 threads
    python3 bench/kuzu_bench.py --nets conv --rounds 3 --threads 1 2

The course's path is torchvision's KMNIST dataset with ToTensor and Normalize
applied per image, batched by a DataLoader (batch 64, shuffled). The
in-memory path is the one kuzu_main.py uses: one normalised tensor, batched
by indexing, NetConv in channels-last memory. Every variant trains the same
model from the same initial weights with the settings kuzu_main.py gives it.
The variants run one after the other within each round (round-robin), so a
change in the machine's load hits all of them alike; the table gives each
variant's median epoch time over the rounds and its ratio to the reference of
its group, the ratio computed per round and then the median taken.
"""
import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from dataclasses import replace

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from lab.characters import kmnist  # noqa: E402
from kuzu import OLD_CONV, build_model  # noqa: E402
from lab.characters.settings import Settings  # noqa: E402
from lab.characters.training import make_optimizer, make_scheduler, prepare, train_epoch  # noqa: E402
from lab.common.records import cpu_name  # noqa: E402
from lab.common.errors import UserError, run_main  # noqa: E402
from lab.common.compute import torch_threads  # noqa: E402


class CourseBatches:
    """The course's loader (torchvision dataset, per-image transforms, DataLoader), shaped like kmnist.Batches."""

    def __init__(self, root, batch_size):
        from torchvision import datasets, transforms

        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
        try:
            dataset = datasets.KMNIST(root=root, train=True, download=False, transform=transform)
        except RuntimeError as err:  # torchvision reads only the unpacked files
            raise UserError(f"the course's path needs torchvision's unpacked KMNIST files in "
                            f"{kmnist.raw_dir(root)}: {err}") from None
        self.labels, self.batch_size = dataset.targets, batch_size
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        return iter(self.loader)


def timed_epoch(model, batches, settings):
    """Train one epoch with kuzu_main.py's own loop (its loss lines not shown); returns the seconds it took."""
    optimizer = make_optimizer(settings, model)
    scheduler = make_scheduler(optimizer, settings.schedule, len(batches))
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        train_epoch(model, optimizer, scheduler, batches, 1)
    return time.perf_counter() - started


def variants(args):
    """(group, label, settings, path) for everything to time; the first of a group is its reference."""
    found = []
    for net in args.nets:
        settings = Settings(net=net, batch_size=args.batch_size, data=args.data)
        if net in ("lin", "full"):
            found += [(net, f"{net}, course's path", settings, "course"), (net, f"{net}, in-memory", settings, "memory")]
        else:
            sizes, training = OLD_CONV
            found += [("conv", "conv 32/64 (earlier default)", replace(settings, **sizes, **training), "memory"),
                      ("conv", "conv 16/32 (default)", settings, "memory")]
    return found


def main(argv=None):
    """Time every variant round-robin and print a Markdown table with the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", choices=("lin", "full", "conv"), default=["lin", "full", "conv"],
                        help="which nets (default all three)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="torch thread counts (default 1 2)")
    parser.add_argument("--rounds", type=int, default=2, help="epochs timed per variant (default 2)")
    parser.add_argument("--data", default=None, help="data directory (default $KMNIST_DATA, else ./data)")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or min(args.threads) < 1:
        parser.error("--rounds and --threads must be at least 1")
    root = kmnist.data_root(args.data)
    images, labels = kmnist.load_split(root, "train", download=False)
    print(f"{cpu_name()}, torch {torch.__version__}; one epoch of {len(labels):,} images, batch {args.batch_size}")
    jobs, rows = variants(args), []
    for threads in args.threads:
        with torch_threads(threads):
            times = {job[1]: [] for job in jobs}
            for _ in range(args.rounds):
                for group, label, settings, path in jobs:
                    torch.manual_seed(0)
                    model = build_model(settings.model_config())
                    model = prepare(model, settings.net, torch.device("cpu"), "off", log=lambda *a: None)
                    if path == "course":
                        batches = CourseBatches(root, args.batch_size)
                    else:
                        batches = kmnist.Batches(images, labels, args.batch_size, shuffle=True, seed=0,
                                                 shift=settings.shift)
                    times[label].append(timed_epoch(model, batches, settings))
                    print(f"{threads} thread(s) {label:32s} {times[label][-1]:7.1f} s", flush=True)
            for group, label, *_ in jobs:
                reference = next(job[1] for job in jobs if job[0] == group)
                ratios = [t / r for t, r in zip(times[label], times[reference])]
                rows.append((threads, label, statistics.median(times[label]), statistics.median(ratios), ratios))
    print("\n| threads | variant | s/epoch (median) | time against the first of its net (per round) |")
    print("|---:|---|---:|---|")
    for threads, label, seconds, ratio, ratios in rows:
        print(f"| {threads} | {label} | {seconds:.1f} | {ratio:.2f}x ({', '.join(f'{r:.2f}' for r in ratios)}) |")


if __name__ == "__main__":
    sys.exit(run_main(main))
