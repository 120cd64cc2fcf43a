"""Part 2's plots: where each unit of the check network is on, and the network itself with its weights.

Both take the network (check.py's ``MLP``) as an argument and write one
image file each, atomically; they return the path written.
"""
import torch

from lab.common.figures import pyplot, save_figure


def plot_unit(net, x, y, path, hidden=None, title=""):
    """Draw where one unit is on (activation >= 0.5) over a grid around the data, with the data by target.

    ``hidden=k`` draws hidden unit k (0-based); ``None`` draws the output.
    """
    plt = pyplot()
    mesh1, mesh2, points = _grid(x)
    with torch.no_grad():
        out = net(points)
        value = out if hidden is None else net.hid[:, hidden:hidden + 1]
    on = (value >= 0.5).float().reshape(mesh1.shape)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    extent = (mesh1.min().item(), mesh1.max().item(), mesh2.min().item(), mesh2.max().item())
    ax.imshow(on.numpy(), origin="lower", extent=extent, cmap="Greys", vmin=0, vmax=2.5, interpolation="nearest")
    target = y[:, 0] >= 0.5
    ax.scatter(x[target, 0], x[target, 1], c="tab:red", edgecolors="k", s=80, label="target 1")
    ax.scatter(x[~target, 0], x[~target, 1], c="tab:blue", edgecolors="k", s=80, label="target 0")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    ax.set_title(f"{title} (grey: unit on)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)


def _grid(x, margin=0.5, steps=301):
    """A steps x steps grid over the data's range plus ``margin``: (x1 mesh, x2 mesh, the points as rows)."""
    low = x.min(dim=0).values - margin
    high = x.max(dim=0).values + margin
    g1 = torch.linspace(low[0].item(), high[0].item(), steps)
    g2 = torch.linspace(low[1].item(), high[1].item(), steps)
    mesh1, mesh2 = torch.meshgrid(g1, g2, indexing="xy")
    return mesh1, mesh2, torch.stack([mesh1.reshape(-1), mesh2.reshape(-1)], dim=1)


def plot_network(net, path):
    """Draw the network: inputs, hidden units and output, every weight on its edge and every bias by its unit."""
    plt = pyplot()
    w_in = net.in_hid.weight.detach()
    b_in = net.in_hid.bias.detach()
    w_out = net.hid_out.weight.detach()
    b_out = net.hid_out.bias.detach()
    hid = w_in.shape[0]
    spread = max(hid - 1, 1)
    inputs = [(0.0, y) for y in (spread * 0.9, spread * 0.1)]
    hidden = [(1.5, spread - k) for k in range(hid)]
    output = (2.8, spread / 2)

    fig, ax = plt.subplots(figsize=(8, 1.6 + 1.1 * hid))
    label = dict(fontsize=8, ha="center", va="center",
                 bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none"))
    for i, (x0, y0) in enumerate(inputs):
        for k, (x1, y1) in enumerate(hidden):
            ax.plot([x0, x1], [y0, y1], color="grey", lw=1, zorder=1)
            # the two inputs' labels in two columns, so that they never overlap
            t = 0.8 if i == 0 else 0.55
            ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), f"{w_in[k, i].item():.2f}", **label)
    for k, (x0, y0) in enumerate(hidden):
        ax.plot([x0, output[0]], [y0, output[1]], color="grey", lw=1, zorder=1)
        ax.text(x0 + 0.4 * (output[0] - x0), y0 + 0.4 * (output[1] - y0), f"{w_out[0, k].item():.2f}", **label)

    def node(xy, name, bias=None):
        ax.add_patch(plt.Circle(xy, 0.13, facecolor="lightyellow", edgecolor="k", zorder=2))
        ax.text(xy[0], xy[1], name, ha="center", va="center", fontsize=9, zorder=3)
        if bias is not None:
            ax.text(xy[0], xy[1] - 0.22, f"bias {bias:.2f}", ha="center", va="top", fontsize=8, color="darkred")

    for i, xy in enumerate(inputs):
        node(xy, f"x{i + 1}")
    for k, xy in enumerate(hidden):
        node(xy, f"H{k + 1}", b_in[k].item())
    node(output, "out", b_out[0].item())
    ax.set_xlim(-0.3, 3.1)
    ax.set_ylim(-0.6, spread + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{net.act} units, {hid} hidden: output = unit(sum of weight * input + bias)")
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
