"""A recurrent network's state update for one input symbol, as a plain function of the state (float64 numpy).

For an SRN the state is the hidden vector h and the map of symbol a is
f_a(h) = tanh(W e_a + U h + b). For an LSTM the state is (h, c) side by
side and the map is one LSTM step on input a (torch's gate order: input,
forget, cell input, output). The output is the logits V h + c over the next
symbol. Everything is float64, so that fixed points can be found to 1e-8.
"""
import numpy as np
import torch


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class StateMaps:
    """The maps of every input symbol of one network, its output layer and its initial state.

    ``step(state, a)`` is the next state; ``jacobian(state, a)`` its
    derivative with respect to the state (written out by hand; the tests
    compare it with finite differences); ``logits(h)`` the output before the
    softmax for hidden vectors h (..., hid).
    """

    def __init__(self, model):
        self.kind = "lstm" if hasattr(model, "lstm") else "srn"
        rnn = model.lstm if self.kind == "lstm" else model.rnn
        as64 = lambda t: t.detach().to(torch.float64).numpy().copy()  # noqa: E731
        self.w_in, self.w_rec = as64(rnn.weight_ih_l0), as64(rnn.weight_hh_l0)
        self.bias = as64(rnn.bias_ih_l0) + as64(rnn.bias_hh_l0)
        self.v, self.c = as64(model.out.weight), as64(model.out.bias)
        self.hid = model.num_hid
        self.num_symbols = self.w_in.shape[1]
        self.size = self.hid * (2 if self.kind == "lstm" else 1)
        with torch.no_grad():
            initial = as64(model.trace(torch.zeros(1, 1, self.num_symbols))["initial"])
        self.initial = np.concatenate([initial, np.zeros(self.hid)]) if self.kind == "lstm" else initial

    def _gates(self, h, a):
        z = self.w_in[:, a] + self.bias + self.w_rec @ h
        zi, zf, zg, zo = np.split(z, 4)
        return _sigmoid(zi), _sigmoid(zf), np.tanh(zg), _sigmoid(zo)

    def step(self, state, a):
        """The next state after reading symbol ``a`` from ``state`` (1-D float64)."""
        state = np.asarray(state, dtype=np.float64)
        if self.kind == "srn":
            return np.tanh(self.w_in[:, a] + self.bias + self.w_rec @ state)
        h, c = state[: self.hid], state[self.hid:]
        i, f, g, o = self._gates(h, a)
        c_next = f * c + i * g
        return np.concatenate([o * np.tanh(c_next), c_next])

    def gates(self, state, a):
        """The LSTM's input, forget and output gates on reading ``a`` from ``state``: three (hid,) arrays."""
        i, f, _, o = self._gates(np.asarray(state, dtype=np.float64)[: self.hid], a)
        return i, f, o

    def jacobian(self, state, a):
        """d step(state, a) / d state, a (size, size) array."""
        state = np.asarray(state, dtype=np.float64)
        if self.kind == "srn":
            f = self.step(state, a)
            return (1.0 - f**2)[:, None] * self.w_rec
        n = self.hid
        h, c = state[:n], state[n:]
        i, f, g, o = self._gates(h, a)
        wi, wf, wg, wo = np.split(self.w_rec, 4)
        c_next = f * c + i * g
        t = np.tanh(c_next)
        dc_dh = (c * f * (1 - f))[:, None] * wf + (g * i * (1 - i))[:, None] * wi + (i * (1 - g**2))[:, None] * wg
        dc_dc = np.diag(f)
        dh_dh = (t * o * (1 - o))[:, None] * wo + (o * (1 - t**2))[:, None] * dc_dh
        dh_dc = (o * (1 - t**2))[:, None] * dc_dc
        return np.block([[dh_dh, dh_dc], [dc_dh, dc_dc]])

    def hidden(self, states):
        """The hidden part of states (..., size): the whole state for an SRN."""
        return np.asarray(states)[..., : self.hid]

    def cells(self, states):
        """The LSTM's cell part of states (..., size)."""
        return np.asarray(states)[..., self.hid:]

    def logits(self, hidden):
        """Output logits for hidden vectors (..., hid)."""
        return np.asarray(hidden, dtype=np.float64) @ self.v.T + self.c

    def run(self, symbols, state=None):
        """The states after each of ``symbols`` from ``state`` (default: the initial state), shape (T, size)."""
        s = self.initial if state is None else np.asarray(state, dtype=np.float64)
        out = []
        for a in symbols:
            s = self.step(s, int(a))
            out.append(s)
        return np.array(out)
