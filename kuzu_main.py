"""Train and test NetLin, NetFull or NetConv on Kuzushiji-MNIST.

    python3 kuzu_main.py --net conv

prints the course's loss lines, the confusion matrix and the accuracy after
every epoch, then the most-confused pairs, the parameter count and the wall
time, and saves a confusion heatmap and a grid of test examples in --plot-dir.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import kmnist
from kuzu import NETS, build_model, parameter_arithmetic
from runtime import (UserError, atomic_torch_save, ensure_folder, number, pick_device, positive, pyplot, run_main,
                     save_figure, seed_everything)

# Settings a net gets when the user passes none; chosen by measurement (README, "Part 1").
NET_DEFAULTS = {
    "lin": {"lr": 0.01, "mom": 0.5, "shift": 0},
    "full": {"lr": 0.02, "mom": 0.9, "shift": 0},
    "conv": {"lr": 0.03, "mom": 0.9, "shift": 2},
}


def parse_args(argv):
    """The command line, compatible with the course's kuzu_main.py."""
    parser = argparse.ArgumentParser(description="Train and test a classifier on Kuzushiji-MNIST (KMNIST).")
    parser.add_argument("--net", choices=NETS, default="full", help="lin, full or conv (default full)")
    parser.add_argument("--lr", type=positive(float), default=None, help="learning rate (default 0.01; full 0.02, conv 0.03)")
    parser.add_argument("--mom", type=number(float, low=0), default=None, help="momentum (default 0.5; full and conv 0.9)")
    parser.add_argument("--epochs", type=positive(int), default=10, help="number of training epochs (default 10)")
    parser.add_argument("--no_cuda", action="store_true", help="never use CUDA")
    parser.add_argument("--hid", type=positive(int), default=500, help="hidden units of NetFull (default 500)")
    parser.add_argument("--conv1", type=positive(int), default=32, help="filters in NetConv's first layer (default 32)")
    parser.add_argument("--conv2", type=positive(int), default=64, help="filters in NetConv's second layer (default 64)")
    parser.add_argument("--fc", type=positive(int), default=128, help="units in NetConv's hidden layer (default 128)")
    parser.add_argument("--dropout", type=number(float, low=0), default=0.3, help="NetConv's dropout before the output (default 0.3)")
    parser.add_argument("--shift", type=number(int, low=0), default=None,
                        help="random shift of training images by up to this many pixels (default 0; conv 2)")
    parser.add_argument("--schedule", choices=("cosine", "const"), default="cosine",
                        help="learning rate over the run: cosine decay to 0 or constant (default cosine)")
    parser.add_argument("--batch-size", type=positive(int), default=64, help="training batch size (default 64)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--data", default=None,
                        help="data directory holding KMNIST/raw/ (default $KMNIST_DATA, else ./data)")
    parser.add_argument("--no-download", action="store_true", help="never try to download missing data")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                        help="where to train (default auto: cuda, then mps, then cpu)")
    parser.add_argument("--save", default=None, metavar="PATH",
                        help="save a checkpoint (weights and settings) here after every epoch")
    parser.add_argument("--plot-dir", default="plot", help="folder for the plots (default plot)")
    parser.add_argument("--dry-run", action="store_true", help="one epoch of a single batch, to check the setup")
    args = parser.parse_args(argv)
    for name in ("lr", "mom", "shift"):
        if getattr(args, name) is None:
            setattr(args, name, NET_DEFAULTS[args.net][name])
    if args.mom >= 1 or args.dropout >= 1 or args.shift > 4:
        parser.error("need --mom and --dropout below 1 and --shift at most 4")
    return args


def model_settings(args):
    """The settings that rebuild the model (stored in checkpoints)."""
    settings = {"net": args.net}
    if args.net == "full":
        settings["hid"] = args.hid
    if args.net == "conv":
        settings.update(conv1=args.conv1, conv2=args.conv2, fc=args.fc, dropout=args.dropout)
    return settings


def train_epoch(model, optimizer, scheduler, batches, epoch, dry_run=False):
    """One pass over the training batches, printing the course's loss line every 100 batches."""
    model.train()
    count = len(batches.labels)
    for index, (images, labels) in enumerate(batches):
        optimizer.zero_grad(set_to_none=True)
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if index % 100 == 0:
            print(f"Train Epoch: {epoch} [{index * batches.batch_size}/{count} "
                  f"({100.0 * index / len(batches):.0f}%)]\tLoss: {loss.item():.6f}")
        if dry_run:
            break


@torch.no_grad()
def evaluate(model, images, labels, batch_size=1000):
    """Test the model: returns (average loss, number correct, 10x10 confusion matrix, predictions)."""
    model.eval()
    total_loss = torch.zeros((), device=labels.device)
    predictions = []
    for start in range(0, len(labels), batch_size):
        output = model(images[start:start + batch_size])
        total_loss += F.nll_loss(output, labels[start:start + batch_size], reduction="sum")
        predictions.append(output.argmax(dim=1))
    predicted = torch.cat(predictions)
    confusion = torch.bincount(labels * 10 + predicted, minlength=100).view(10, 10)
    correct = int(confusion.trace())
    return total_loss.item() / len(labels), correct, confusion.cpu().numpy().astype(float), predicted.cpu()


def most_confused(confusion, top=3):
    """The ``top`` off-diagonal cells as (true name, chosen name, count), largest first."""
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:top]
    return [(kmnist.CLASSES[i // 10], kmnist.CLASSES[i % 10], int(off.flat[i])) for i in order]


def format_pairs(pairs):
    """Confused pairs as text: ``ma -> su: 142, ...`` (true -> chosen)."""
    return ", ".join(f"{true} -> {chosen}: {count}" for true, chosen, count in pairs)


def plot_confusion(confusion, net, accuracy, path):
    """Heatmap of the confusion matrix with the romanised class names."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(confusion, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ticks = range(len(kmnist.CLASSES))
    ax.set_xticks(ticks, kmnist.CLASSES)
    ax.set_yticks(ticks, kmnist.CLASSES)
    ax.set_xlabel("network's choice")
    ax.set_ylabel("true character")
    ax.set_title(f"KMNIST confusion, net {net}, accuracy {accuracy:.2f}%")
    threshold = confusion.max() / 2
    for row in ticks:
        for col in ticks:
            value = int(confusion[row, col])
            if value:
                ax.text(col, row, str(value), ha="center", va="center", fontsize=7,
                        color="white" if value > threshold else "black")
    return save_figure(fig, path, dpi=120, bbox_inches="tight")


def plot_samples(images, labels, predicted, confused_pairs, net, path, per_class=6, wrong_per_class=4):
    """A row per class: correctly classified test images, then misclassified ones with the choice in red."""
    plt = pyplot()
    columns = per_class + wrong_per_class
    fig, axes = plt.subplots(10, columns, figsize=(columns * 0.9, 10 * 0.95))
    labels, predicted = labels.cpu(), predicted.cpu()
    for cls in range(10):
        right = torch.nonzero((labels == cls) & (predicted == cls)).flatten()[:per_class].tolist()
        wrong = torch.nonzero((labels == cls) & (predicted != cls)).flatten()[:wrong_per_class].tolist()
        cells = right + [None] * (per_class - len(right)) + wrong + [None] * (wrong_per_class - len(wrong))
        for col, index in enumerate(cells):
            ax = axes[cls, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if index is None:
                ax.axis("off")
                continue
            ax.imshow(images[index, 0].cpu().numpy(), cmap="gray_r")
            if col >= per_class:
                ax.set_title(f"-> {kmnist.CLASSES[int(predicted[index])]}", color="red", fontsize=8, pad=2)
                for spine in ax.spines.values():
                    spine.set_color("red")
                    spine.set_linewidth(2)
        axes[cls, 0].set_ylabel(kmnist.CLASSES[cls], rotation=0, labelpad=14, fontsize=10)
    fig.suptitle(f"KMNIST test examples, net {net} (red: misclassified, with the network's choice)\n"
                 f"most confused: {format_pairs(confused_pairs)}", fontsize=9)
    return save_figure(fig, path, dpi=100, bbox_inches="tight")


def main(argv=None):
    """Train, test after each epoch, report and plot."""
    args = parse_args(argv)
    started = time.perf_counter()
    ensure_folder(args.plot_dir)  # fail now, not after the training, if the outputs cannot be written
    if args.save:
        if os.path.isdir(args.save):
            raise UserError(f"--save {args.save} is a folder; give a file name such as {args.save}/kuzu_{args.net}.pth")
        ensure_folder(os.path.dirname(os.path.abspath(args.save)))
    seed_everything(args.seed)
    device = pick_device(args.device, args.no_cuda)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    root = kmnist.data_root(args.data)
    train_images, train_labels = kmnist.load_split(root, "train", device, download=not args.no_download)
    test_images, test_labels = kmnist.load_split(root, "test", device, download=False)

    settings = model_settings(args)
    model = build_model(**settings).to(device)
    total, arithmetic = parameter_arithmetic(model)
    print(f"net={args.net} lr={args.lr} mom={args.mom} epochs={args.epochs} batch-size={args.batch_size} "
          f"shift={args.shift} schedule={args.schedule} seed={args.seed} device={device}")
    print("Independent parameters:")
    for line in arithmetic:
        print("  " + line)

    batches = kmnist.Batches(train_images, train_labels, args.batch_size, shuffle=True, seed=args.seed,
                             shift=args.shift)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.mom)
    steps = args.epochs * (1 if args.dry_run else len(batches))
    if args.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    np.set_printoptions(precision=4, suppress=True)
    for epoch in range(1, args.epochs + 1):
        batches.set_epoch(epoch)
        train_epoch(model, optimizer, scheduler, batches, epoch, args.dry_run)
        test_loss, correct, confusion, predicted = evaluate(model, test_images, test_labels)
        print(confusion)
        print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_labels)} "
              f"({100.0 * correct / len(test_labels):.0f}%)\n", flush=True)
        if args.save:
            atomic_torch_save({"model": settings, "state_dict": model.state_dict(), "epoch": epoch,
                               "accuracy": correct / len(test_labels), "args": vars(args)}, args.save)
        if args.dry_run:
            break

    accuracy = 100.0 * correct / len(test_labels)
    pairs = most_confused(confusion)
    print("Most confused (true -> chosen): " + format_pairs(pairs))
    print(f"Parameters: {total:,}")
    print(f"Test accuracy: {accuracy:.2f}%")
    saved = [plot_confusion(confusion, args.net, accuracy, os.path.join(args.plot_dir, f"kuzu_{args.net}_confusion.jpg")),
             plot_samples(test_images, test_labels, predicted, pairs, args.net,
                          os.path.join(args.plot_dir, f"kuzu_{args.net}_samples.jpg"))]
    if args.save:
        saved.append(args.save)
    print("Saved: " + ", ".join(saved))
    print(f"Wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
