"""Part 2's read-outs: what the check network computes, as numbers and text.

Every function takes the network (check.py's ``MLP``) as an argument: its
accuracy, every item's activations, the activation table that check_main
prints, and each hidden unit's dividing line.
"""
import torch


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


def dividing_lines(net):
    """For each hidden unit, its dividing line as text, e.g. ``H1: 1.00*x1 - 1.00*x2 - 0.50 = 0``."""
    weight = net.in_hid.weight.detach()
    bias = net.in_hid.bias.detach()
    lines = []
    for k in range(weight.shape[0]):
        w1, w2, b = weight[k, 0].item(), weight[k, 1].item(), bias[k].item()
        lines.append(f"H{k + 1}: {w1:.2f}*x1{_signed(w2, '*x2')}{_signed(b)} = 0")
    return lines


def _signed(value, text=""):
    sign = "-" if value < 0 else "+"
    return f" {sign} {abs(value):.2f}{text}"
