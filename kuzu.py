"""Part 1 models for Kuzushiji-MNIST: NetLin, NetFull and NetConv.

Every model takes a (B,1,28,28) float batch and returns (B,10)
log-probabilities. ``parameter_arithmetic`` spells out each layer's count of
independent parameters, as a student would in a report, and
``build_model`` / ``load_checkpoint`` rebuild a model from its settings.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

NETS = ("lin", "full", "conv")


class NetLin(nn.Module):
    """One linear map of the 784 pixels to 10 outputs, then log_softmax."""

    def __init__(self):
        super().__init__()
        self.out = nn.Linear(28 * 28, 10)

    def forward(self, x):
        return F.log_softmax(self.out(x.flatten(1)), dim=1)


class NetFull(nn.Module):
    """One hidden layer of ``hid`` tanh units, a linear output layer, log_softmax."""

    def __init__(self, hid=500):
        super().__init__()
        self.hid = nn.Linear(28 * 28, hid)
        self.out = nn.Linear(hid, 10)

    def forward(self, x):
        return F.log_softmax(self.out(torch.tanh(self.hid(x.flatten(1)))), dim=1)


class NetConv(nn.Module):
    """Two 5x5 convolutional layers and one fully connected hidden layer, all ReLU, then log_softmax.

    Each convolution keeps the size (padding 2) and is followed by 2x2 max
    pooling (28 -> 14 -> 7); dropout sits before the output layer.
    """

    def __init__(self, conv1=32, conv2=64, fc=128, dropout=0.3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, conv1, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(conv1, conv2, kernel_size=5, padding=2)
        self.fc = nn.Linear(conv2 * 7 * 7, fc)
        self.out = nn.Linear(fc, 10)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(F.relu(self.fc(x.flatten(1))))
        return F.log_softmax(self.out(x), dim=1)


def build_model(net, hid=500, conv1=32, conv2=64, fc=128, dropout=0.3):
    """Make the model named ``net`` (lin, full or conv) with the given sizes."""
    if net == "lin":
        return NetLin()
    if net == "full":
        return NetFull(hid)
    if net == "conv":
        return NetConv(conv1, conv2, fc, dropout)
    raise ValueError(f"unknown net {net!r}; expected one of {NETS}")


def parameter_arithmetic(model):
    """Count the model's independent parameters, layer by layer.

    Returns (total, lines) where each line reads like
    ``out: 784*10+10 = 7,850``; the total is the sum over all trainable
    parameters, which the layer lines add up to.
    """
    lines, total = [], 0
    for name, layer in model.named_modules():
        if isinstance(layer, nn.Linear):
            count = layer.in_features * layer.out_features + layer.out_features
            lines.append(f"{name}: {layer.in_features}*{layer.out_features}+{layer.out_features} = {count:,}")
        elif isinstance(layer, nn.Conv2d):
            kh, kw = layer.kernel_size
            count = layer.in_channels * kh * kw * layer.out_channels + layer.out_channels
            lines.append(
                f"{name}: {layer.in_channels}*{kh}*{kw}*{layer.out_channels}+{layer.out_channels} = {count:,}"
            )
        else:
            continue
        total += count
    actual = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert actual == total, f"layer arithmetic {total} differs from the model's {actual} parameters"
    lines.append(f"total = {total:,}")
    return total, lines


def load_checkpoint(path, device="cpu"):
    """Rebuild a model from a checkpoint written by kuzu_main.py --save; returns (model, checkpoint)."""
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = build_model(**checkpoint["model"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device), checkpoint
