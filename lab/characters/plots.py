"""Part 1 figures: the confusion heatmap, the grid of test examples, and the training curve.

Each function draws one figure and saves it atomically (lab.common.figures.save_figure),
returning the path.
"""
import numpy as np
import torch

from lab.characters import kmnist
from lab.characters.training import format_pairs
from lab.common.figures import pyplot, save_figure


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
    fig, axes = plt.subplots(10, columns, figsize=(columns * 0.9, 10 * 1.1))
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
                ax.set_title(f"-> {kmnist.CLASSES[int(predicted[index])]}", color="red", fontsize=12, weight="bold",
                             pad=3)
                for spine in ax.spines.values():
                    spine.set_color("red")
                    spine.set_linewidth(2)
        axes[cls, 0].set_ylabel(kmnist.CLASSES[cls], rotation=0, labelpad=16, fontsize=12)
    fig.subplots_adjust(top=0.93, hspace=0.3)
    fig.suptitle(f"KMNIST test examples, net {net} (red: misclassified, with the network's choice)\n"
                 f"most confused: {format_pairs(confused_pairs)}", fontsize=11)
    return save_figure(fig, path, dpi=100, bbox_inches="tight")


def plot_curve(train_loss, test_accuracy, net, path):
    """Mean training loss (left axis) and test accuracy (right axis) after each epoch, each line's last value
    written just right of its end, where no line runs."""
    plt = pyplot()
    epochs = range(1, len(train_loss) + 1)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(epochs, train_loss, "o-", color="tab:blue", label="training loss (mean over the epoch)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (NLL)", color="tab:blue")
    ax.set_xticks(list(epochs))
    span = max(len(epochs) - 1, 1)
    ax.set_xlim(1 - 0.06 * span, len(epochs) + 0.25 * span)  # room after the last epoch for the end labels
    right = ax.twinx()
    right.plot(epochs, test_accuracy, "s-", color="tab:red", label="test accuracy")
    right.set_ylabel("test accuracy (%)", color="tab:red")
    for axis, colour in ((ax, "tab:blue"), (right, "tab:red")):
        axis.tick_params(axis="y", colors=colour)
    _end_labels(fig, [(ax, train_loss[-1], f"{train_loss[-1]:.3f}", "tab:blue"),
                      (right, test_accuracy[-1], f"{test_accuracy[-1]:.2f}%", "tab:red")], len(epochs))
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2,
              fontsize=8, frameon=False)
    ax.set_title(f"KMNIST, net {net}: training loss and test accuracy per epoch")
    ax.grid(alpha=0.3)
    return save_figure(fig, path, dpi=110, bbox_inches="tight")


def _end_labels(fig, ends, last, room=16.0):
    """Each (axes, last value, text, colour) written 8 points right of the line's last point (x = ``last``),
    the texts moved apart vertically where they would come within ``room`` pixels of each other."""
    fig.canvas.draw()
    heights = [axis.transData.transform((last, value))[1] for axis, value, _, _ in ends]
    order = np.argsort(heights)
    shifted = np.array(heights, dtype=np.float64)
    for below, above in zip(order[:-1], order[1:]):
        shortfall = room - (shifted[above] - shifted[below])
        if shortfall > 0:
            shifted[above] += shortfall / 2
            shifted[below] -= shortfall / 2
    for (axis, value, text, colour), height, moved in zip(ends, heights, shifted):
        axis.annotate(text, (last, value), textcoords="offset pixels", xytext=(8 * fig.dpi / 72, moved - height),
                      ha="left", va="center", color=colour, fontsize=10)
