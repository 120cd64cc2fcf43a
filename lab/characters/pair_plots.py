"""The figure of a net's most-confused pairs: mean images, their difference, misread and typical examples.

One row per pair (true t, chosen c): the mean test image of t and of c,
their difference (red where t is darker, blue where c is), for NetLin the
difference of the two weight images (red pixels speak for t), then misread
t's (red frames) beside t's and c's the net reads right.
"""
import numpy as np

from lab.characters import kmnist
from lab.common.figures import pyplot, save_figure


def _image(ax, picture, title, cmap="gray_r", frame=None, symmetric=False):
    ax.set_xticks([])
    ax.set_yticks([])
    if picture is None:
        ax.axis("off")
        return
    limit = np.abs(picture).max() if symmetric else None
    ax.imshow(picture, cmap=cmap, vmin=-limit if symmetric else None, vmax=limit)
    ax.set_title(title, fontsize=10, pad=3, color=frame or "black")
    if frame:
        for spine in ax.spines.values():
            spine.set_color(frame)
            spine.set_linewidth(2.5)


def _row(axes, images, means, row, weights):
    """One pair's row of pictures."""
    t, c = kmnist.CLASSES.index(row["true"]), kmnist.CLASSES.index(row["chosen"])
    cells = [(means[t], f"mean {row['true']}", {}), (means[c], f"mean {row['chosen']}", {}),
             (means[t] - means[c], f"{row['true']} - {row['chosen']}", {"cmap": "RdBu_r", "symmetric": True})]
    if weights is not None:
        cells.append((weights[t] - weights[c], f"w {row['true']} - w {row['chosen']}",
                      {"cmap": "RdBu_r", "symmetric": True}))
    cells += [(images[i], f"{row['true']} -> {row['chosen']}", {"frame": "red"}) for i in row["misread_examples"]]
    cells += [(images[i], f"{row['true']} (right)", {}) for i in row["typical_true"]]
    cells += [(images[i], f"{row['chosen']} (right)", {}) for i in row["typical_chosen"]]
    cells += [(None, "", {})] * (len(axes) - len(cells))
    for ax, (picture, title, style) in zip(axes, cells):
        _image(ax, picture, title, **style)


def plot_pairs(images, labels, rows, net, path, weights=None):
    """Draw the pairs' figure to ``path``; images (N, 28, 28) numpy; returns the path."""
    plt = pyplot()
    from lab.characters.confusions import class_means

    means = class_means(images, labels)
    columns = 3 + (weights is not None) + max(len(r["misread_examples"]) + len(r["typical_true"])
                                               + len(r["typical_chosen"]) for r in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(columns * 1.25, len(rows) * 1.55), squeeze=False)
    for ax_row, row in zip(axes, rows):
        _row(ax_row, images, means, row, weights)
    fig.suptitle(f"Net {net}: its most-confused pairs (true -> chosen). Mean test images and their difference"
                 + (", the difference of the two weight images" if weights is not None else "")
                 + "; misread examples in red beside ones read right", fontsize=12)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110, bbox_inches="tight")
