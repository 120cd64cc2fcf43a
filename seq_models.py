"""Recurrent next-symbol predictors: an Elman SRN and an LSTM, and their checkpoints.

Both models take x of shape (batch, time, input) and return
``(hidden_seq, output)``: the hidden state after each input (batch, time,
hid) and the output logits (batch, time, out). The recurrence runs in torch's
fused layers (nn.RNN, nn.LSTM) for speed; ``trace`` also returns what
analysis needs (the LSTM's cell states and gates at every step, computed
step by step from the same weights).

Checkpoints use the lab's one format (lab/common/checkpoints.py, kind "seq"); their
``config`` holds model, num_input, num_hid and num_out, enough to rebuild
the network with ``build_model``, and the language it was trained on.
"""
import torch
from torch import nn

from lab.common.checkpoints import load_checkpoint as load_lab_checkpoint, load_weights, save_checkpoint as  save_lab_checkpoint
from lab.common.errors import CheckpointError
from lab.common.options import Flag, check_settings


class SRN_model(nn.Module):
    """Elman network: h_t = tanh(W x_t + U h_{t-1} + b), h_0 = tanh(H0) with H0 learned, output V h_t + c."""

    def __init__(self, num_input, num_hid, num_out):
        super().__init__()
        self.num_hid = num_hid
        self.H0 = nn.Parameter(torch.zeros(num_hid))
        self.rnn = nn.RNN(num_input, num_hid, nonlinearity="tanh", batch_first=True)
        self.out = nn.Linear(num_hid, num_out)

    def init_weights(self, std):
        """Draw every parameter (H0 and biases included) from N(0, std^2), as the course's --init does."""
        with torch.no_grad():
            for p in self.parameters():
                p.normal_(0.0, std)

    def initial_state(self):
        """The hidden state before the first input, tanh(H0)."""
        return torch.tanh(self.H0)

    def forward(self, x):
        """x (batch, time, input) one-hot; returns hidden states (batch, time, hid) and output logits."""
        h0 = self.initial_state().expand(1, x.shape[0], self.num_hid).contiguous()
        hidden_seq, _ = self.rnn(x, h0)
        return hidden_seq, self.out(hidden_seq)

    def trace(self, x):
        """Run over x and return a dict: hidden (batch, time, hid), output (logits), initial (hid,)."""
        hidden_seq, output = self(x)
        return {"hidden": hidden_seq, "output": output, "initial": self.initial_state()}


class LSTM_model(nn.Module):
    """Standard LSTM (input, forget, output gates and cell input), zero initial state, linear output."""

    def __init__(self, num_input, num_hid, num_out):
        super().__init__()
        self.num_hid = num_hid
        self.lstm = nn.LSTM(num_input, num_hid, batch_first=True)
        self.out = nn.Linear(num_hid, num_out)

    def forward(self, x):
        """x (batch, time, input) one-hot; returns hidden states (batch, time, hid) and output logits."""
        hidden_seq, _ = self.lstm(x)
        return hidden_seq, self.out(hidden_seq)

    def trace(self, x):
        """Run step by step; return a dict of (batch, time, hid) tensors and the output logits.

        Keys: hidden, context (cell states), input_gate, forget_gate,
        cell_input, output_gate, output; initial is the zero state.
        """
        w_ih, w_hh = self.lstm.weight_ih_l0, self.lstm.weight_hh_l0
        bias = self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0
        batch, steps, _ = x.shape
        h = x.new_zeros(batch, self.num_hid)
        c = x.new_zeros(batch, self.num_hid)
        keys = ("hidden", "context", "input_gate", "forget_gate", "cell_input", "output_gate")
        rows = {k: [] for k in keys}
        for t in range(steps):
            # torch's gate order in the stacked weights: input, forget, cell input, output
            i, f, g, o = (x[:, t] @ w_ih.T + h @ w_hh.T + bias).chunk(4, dim=1)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            for k, v in zip(keys, (h, c, i, f, g, o)):
                rows[k].append(v)
        result = {k: torch.stack(v, dim=1) for k, v in rows.items()}
        result["output"] = self.out(result["hidden"])
        result["initial"] = x.new_zeros(self.num_hid)
        return result


MODELS = {"srn": SRN_model, "lstm": LSTM_model}


class Population(nn.Module):
    """``size`` independent networks of one kind, trained side by side as one fused layer.

    The candidates' hidden units sit in one recurrent layer of size*num_hid
    units whose recurrent and output weights are block diagonal: gradient
    hooks keep the blocks between candidates at zero, so each candidate
    learns exactly as it would alone (same equations, its own weights) while
    the fused layer runs all of them for about the price of one. ``forward``
    returns logits of shape (batch, time, size, num_out); ``candidate(i)``
    copies candidate i out as a plain SRN_model or LSTM_model.
    """

    def __init__(self, kind, num_input, num_hid, num_out, size):
        super().__init__()
        self.kind, self.size = kind, size
        self.dims = (num_input, num_hid, num_out)
        total = size * num_hid
        gates = 4 if kind == "lstm" else 1
        if kind == "srn":
            self.H0 = nn.Parameter(torch.zeros(total))
            self.rnn = nn.RNN(num_input, total, nonlinearity="tanh", batch_first=True)
        else:
            self.rnn = nn.LSTM(num_input, total, batch_first=True)
        self.out = nn.Linear(total, size * num_out)
        block = torch.block_diag(*[torch.ones(num_hid, num_hid)] * size)
        self.register_buffer("mask_hh", block.repeat(gates, 1))
        self.register_buffer("mask_out", torch.block_diag(*[torch.ones(num_out, num_hid)] * size))
        self.rnn.weight_hh_l0.register_hook(lambda g: g * self.mask_hh)
        self.out.weight.register_hook(lambda g: g * self.mask_out)
        self._init(None)

    def _init(self, std):
        """Each candidate drawn as its standalone model would be: N(0, std) for SRNs, torch's uniform for LSTMs."""
        bound = self.dims[1] ** -0.5
        with torch.no_grad():
            for p in self.parameters():
                p.normal_(0.0, std) if std is not None else p.uniform_(-bound, bound)
            self.rnn.weight_hh_l0.mul_(self.mask_hh)
            self.out.weight.mul_(self.mask_out)

    def init_weights(self, std):
        """SRN candidates: every parameter from N(0, std^2), like SRN_model.init_weights."""
        self._init(std)

    def forward(self, x):
        """All candidates on x; returns the fused hidden states and logits (batch, time, candidate, output)."""
        if self.kind == "srn":
            h0 = torch.tanh(self.H0).expand(1, x.shape[0], self.H0.shape[0]).contiguous()
            hidden, _ = self.rnn(x, h0)
        else:
            hidden, _ = self.rnn(x)
        logits = self.out(hidden)
        return hidden, logits.view(*logits.shape[:2], self.size, self.dims[2])

    def candidate(self, i):
        """Candidate i as a standalone model with copied weights."""
        num_input, num_hid, num_out = self.dims
        model = MODELS[self.kind](num_input, num_hid, num_out)
        total = self.size * num_hid
        gates = 4 if self.kind == "lstm" else 1
        rows = torch.cat([torch.arange(q * total + i * num_hid, q * total + (i + 1) * num_hid) for q in range(gates)])
        cols = torch.arange(i * num_hid, (i + 1) * num_hid)
        outs = torch.arange(i * num_out, (i + 1) * num_out)
        src, dst = self.rnn, model.rnn if self.kind == "srn" else model.lstm
        with torch.no_grad():
            dst.weight_ih_l0.copy_(src.weight_ih_l0[rows])
            dst.weight_hh_l0.copy_(src.weight_hh_l0[rows][:, cols])
            dst.bias_ih_l0.copy_(src.bias_ih_l0[rows])
            dst.bias_hh_l0.copy_(src.bias_hh_l0[rows])
            model.out.weight.copy_(self.out.weight[outs][:, cols])
            model.out.bias.copy_(self.out.bias[outs])
            if self.kind == "srn":
                model.H0.copy_(self.H0[cols])
        return model


# The flags of the settings that rebuild a network (seq_train.py's and the analysing commands'), which a checkpoint's
# config is checked with (its num_hid is --hid), and what the config must hold.
MODEL = Flag(("--model",), "srn", choices=tuple(MODELS), resume=True, help="network type (default: %(default)s)")
HID = Flag(("--hid",), None, int, above=0, high=1024, resume=True,  # None: seq_train.py's default
           help="hidden units (default: seq_train.py's for the language and model)")
CONFIG_NEEDS = ("model", "num_input", "num_hid", "num_out", "lang", "embed", "length")


def build_model(config):
    """A fresh (untrained) model from a config dict with model, num_input, num_hid, num_out."""
    cls = MODELS[config["model"]]
    return cls(config["num_input"], config["num_hid"], config["num_out"])


def save_checkpoint(path, model, config, **extra):
    """Write a Part 3 checkpoint: the network's weights with the config that rebuilds it (atomic)."""
    save_lab_checkpoint(path, "seq", config, model, **extra)


def check_config(path, ckpt):
    """Check what rebuilding the network needs of a checkpoint's config: every key of CONFIG_NEEDS, --model and
    --hid as their flags take them; a CheckpointError names the file and the key."""
    check_settings({"model": MODEL, "hid": HID}, path, ckpt["config"], "config", CheckpointError, CONFIG_NEEDS,
                   {"hid": "num_hid"})


def load_checkpoint(path, check=check_config):
    """Load a checkpoint safely and rebuild its model; returns (model in eval mode, checkpoint dict).

    Raises CheckpointError (naming the file and what is wrong) when the file
    is not a Part 3 checkpoint, lacks a setting, or its weights do not fit
    the model its config describes. ``check(path, checkpoint)`` checks its
    settings (lab.recurrent.settings.check_checkpoint checks all of them).
    """
    ckpt = load_lab_checkpoint(path, "seq", check)
    model = load_weights(path, build_model(ckpt["config"]), ckpt["state_dict"])  # its config checked on loading
    model.eval()
    return model, ckpt
