"""Part 2: a 2-layer network for the 9-point check data.

The pieces that check_main.py puts together: the network (``MLP``, with
the hand-designed weights in ``entered_weights``) and the read-outs:
accuracy, the activation table, the dividing line of every hidden unit, and
the plots. The data loader, the optimiser and the training with restarts
are in lab/check/.
"""
import torch
import torch.nn as nn

from lab.common.errors import UserError
from lab.common.figures import pyplot, save_figure


def heaviside(z):
    """The step function: 1 where ``z >= 0``, else 0."""
    return (z >= 0).to(z.dtype)


def entered_weights():
    """The hand-designed network for ``--set_weights``: weights, biases and the rescaling factor.

    The factor comes from ``sigmoid_factor()``, asked for only when sigmoid units need it.
    """
    ##########################  Enter Weights Here  ##########################
    # >>> Part 2 Q2 [2 marks]: the hand design with step units
    # The target is 1 where x1+x2 is odd. Every hidden unit looks at s = x1+x2
    # and switches on past one threshold, s >= 0.5, 1.5, 2.5, 3.5; the output
    # adds them with alternating signs, H1 - H2 + H3 - H4, which is 1 for
    # s = 1 and 3 and 0 for s = 0, 2 and 4.
    in_hid_weight = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]  # hid x 2
    hid_bias = [-0.5, -1.5, -2.5, -3.5]                               # hid
    hid_out_weight = [[1.0, -1.0, 1.0, -1.0]]                         # 1 x hid
    out_bias = [-0.5]                                                 # 1
    # <<< Part 2 Q2
    ##########################################################################
    return {
        "in_hid.weight": in_hid_weight,
        "in_hid.bias": hid_bias,
        "hid_out.weight": hid_out_weight,
        "hid_out.bias": out_bias,
        "sig_factor": sigmoid_factor,
    }


def sigmoid_factor():
    """The number every hand-set weight and bias is multiplied by for sigmoid units."""
    # >>> Part 2 Q3 [1 mark]: the factor that rescales the design for sigmoid units
    sig_factor = 10.0  # with --act sig every weight and bias is multiplied by this
    # <<< Part 2 Q3
    return sig_factor


class MLP(nn.Module):
    """Two inputs, ``hid`` hidden units, one output; sigmoid (``act='sig'``) or step (``act='step'``) units.

    The forward pass keeps the hidden activations in ``self.hid``.
    """

    def __init__(self, hid=4, act="sig"):
        super().__init__()
        if act not in ("sig", "step"):
            raise UserError(f"unknown activation {act!r}; use sig or step")
        self.act = act
        self.in_hid = nn.Linear(2, hid)
        self.hid_out = nn.Linear(hid, 1)
        self.hid = None

    def forward(self, x):
        # >>> Part 2 Q1 [1 mark]: the forward pass
        squash = torch.sigmoid if self.act == "sig" else heaviside
        self.hid = squash(self.in_hid(x))
        return squash(self.hid_out(self.hid))
        # <<< Part 2 Q1

    def init_weights(self, std):
        """Draw every weight and bias from a normal distribution with mean 0 and deviation ``std``."""
        with torch.no_grad():
            for param in self.parameters():
                param.normal_(0.0, std)

    def set_weights(self, design=None):
        """Load the hand design (``entered_weights()`` unless ``design`` is given).

        Step units take the weights as designed; sigmoid units take them
        multiplied by the design's ``sig_factor``, so that they act almost
        like steps. Wrong shapes are a UserError naming the shapes expected.
        """
        design = entered_weights() if design is None else design
        factor = design.get("sig_factor", 1.0) if self.act == "sig" else 1.0
        factor = float(factor() if callable(factor) else factor)
        hid = self.in_hid.out_features
        expected = {name: tuple(param.shape) for name, param in self.named_parameters()}
        loaded = {}
        for name, shape in expected.items():
            try:
                value = torch.tensor(design[name], dtype=torch.float32)
            except KeyError:
                raise UserError(f"the entered weights have no {name}; expected shape {shape}") from None
            except (TypeError, ValueError):
                raise UserError(f"the entered {name} is not a table of numbers; expected shape {shape}") from None
            if tuple(value.shape) != shape:
                wanted = ", ".join(f"{n} {s}" for n, s in expected.items())
                raise UserError(
                    f"the entered {name} has shape {tuple(value.shape)}, but --hid {hid} needs {shape} "
                    f"(all shapes expected: {wanted}); the hand design in entered_weights() is for its own "
                    f"number of hidden units, so use that --hid or edit the 'Enter Weights Here' block")
            loaded[name] = value * factor
        with torch.no_grad():
            for name, param in self.named_parameters():
                param.copy_(loaded[name])


def accuracy(net, x, y):
    """Percentage of items the network classifies correctly (output >= 0.5 means 1)."""
    with torch.no_grad():
        correct = ((net(x) >= 0.5).float() == y).float().mean().item()
    return round(100.0 * correct, 2)


def activations(net, x, y):
    """Per item: [x1, x2, hidden units..., output, target] as plain numbers."""
    with torch.no_grad():
        out = net(x)
    return torch.cat([x, net.hid, out, y], dim=1).tolist()


def activation_table(net, x, y):
    """The activations for every item, as text: x1, x2, each hidden unit H1.., the output, the target."""
    with torch.no_grad():
        out = net(x)
    hid = net.hid
    number = (lambda v: f"{int(v):>5d}") if net.act == "step" else (lambda v: f"{v:5.3f}")
    head = ["   x1", "   x2"] + [f"{'H' + str(k + 1):>5}" for k in range(hid.shape[1])] + ["  out", "target"]
    lines = [" ".join(head)]
    for i in range(len(x)):
        cells = [f"{x[i, 0].item():5.2f}", f"{x[i, 1].item():5.2f}"]
        cells += [number(v) for v in hid[i].tolist()] + [number(out[i, 0].item()), f"{int(y[i, 0].item()):>6d}"]
        lines.append(" ".join(cells))
    return "\n".join(lines)


def _signed(value, text=""):
    sign = "-" if value < 0 else "+"
    return f" {sign} {abs(value):.2f}{text}"


def dividing_lines(net):
    """For each hidden unit, its dividing line as text, e.g. ``H1: 1.00*x1 - 1.00*x2 - 0.50 = 0``."""
    weight = net.in_hid.weight.detach()
    bias = net.in_hid.bias.detach()
    lines = []
    for k in range(weight.shape[0]):
        w1, w2, b = weight[k, 0].item(), weight[k, 1].item(), bias[k].item()
        lines.append(f"H{k + 1}: {w1:.2f}*x1{_signed(w2, '*x2')}{_signed(b)} = 0")
    return lines


def _grid(x, margin=0.5, steps=301):
    low = x.min(dim=0).values - margin
    high = x.max(dim=0).values + margin
    g1 = torch.linspace(low[0].item(), high[0].item(), steps)
    g2 = torch.linspace(low[1].item(), high[1].item(), steps)
    mesh1, mesh2 = torch.meshgrid(g1, g2, indexing="xy")
    return mesh1, mesh2, torch.stack([mesh1.reshape(-1), mesh2.reshape(-1)], dim=1)


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
