"""Recurrent next-symbol predictors: an Elman SRN and an LSTM, and their checkpoints.

Both models take x of shape (batch, time, input) and return
``(hidden_seq, output)``: the hidden state after each input (batch, time,
hid) and the output logits (batch, time, out). The recurrence runs in torch's
fused layers (nn.RNN, nn.LSTM) for speed; ``trace`` also returns what
analysis needs (the LSTM's cell states and gates at every step, computed
step by step from the same weights).

A checkpoint is a dict of plain types and tensors, ``{"config": {...},
"state_dict": {...}, ...}``, so it loads with ``torch.load(weights_only=True)``;
``config`` holds model, num_input, num_hid and num_out, enough to rebuild
the network with ``build_model``.
"""
import torch
from torch import nn

from runtime import atomic_torch_save


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


def build_model(config):
    """A fresh (untrained) model from a config dict with model, num_input, num_hid, num_out."""
    cls = MODELS[config["model"]]
    return cls(config["num_input"], config["num_hid"], config["num_out"])


def save_checkpoint(path, model, config, **extra):
    """Write model weights with the config that rebuilds it, atomically."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    atomic_torch_save({"config": dict(config), "state_dict": state, **extra}, path)


def load_checkpoint(path):
    """Load a checkpoint safely and rebuild its model; returns (model in eval mode, checkpoint dict).

    Raises ValueError when the file is not a checkpoint of this project or
    its weights do not fit the model its config describes.
    """
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # unpickling refuses anything but plain data and tensors
        raise ValueError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(ckpt, dict) or "config" not in ckpt or "state_dict" not in ckpt:
        raise ValueError(f"{path} is not a checkpoint of seq_train.py (no config and state_dict)")
    config = ckpt["config"]
    missing = [k for k in ("model", "num_input", "num_hid", "num_out") if k not in config]
    if missing or config["model"] not in MODELS:
        raise ValueError(f"{path} has an incomplete config (missing {missing or 'a known model'})")
    model = build_model(config)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise ValueError(f"{path}: weights do not fit a {config['model']} with {config['num_hid']} hidden units: "
                         f"{first[-1].strip() if first else err}") from None
    model.eval()
    return model, ckpt
