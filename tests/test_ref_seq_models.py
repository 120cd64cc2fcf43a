"""The recurrent models against the published equations, worked out with scalar math on hand-set weights.

Elman (1990): h_t = tanh(W x_t + U h_{t-1} + b), output V h_t + c, here with h_0 = tanh(H0).
LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000):
i, f, o = sigmoid(.), g = tanh(.), c_t = f c_{t-1} + i g, h_t = o tanh(c_t), from h_0 = c_0 = 0.
"""
import math

import pytest
import torch

from seq_models import LSTM_model, Population, SRN_model


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


SEQ = [0, 1, 1, 0]  # symbols of a two-letter alphabet, fed one-hot


def one_hot(seq, symbols=2):
    return torch.nn.functional.one_hot(torch.tensor([seq]), symbols).float()


def hand_srn(w, u, b, h0_param, v, c, seq):
    """One hidden unit: w[a] is the weight from symbol a; returns hidden values and output pairs."""
    h = math.tanh(h0_param)
    hs, outs = [], []
    for a in seq:
        h = math.tanh(w[a] + u * h + b)
        hs.append(h)
        outs.append([v[0] * h + c[0], v[1] * h + c[1]])
    return hs, outs


def test_srn_forward_equals_elman_equations_by_hand():
    model = SRN_model(2, 1, 2)
    with torch.no_grad():
        model.rnn.weight_ih_l0.copy_(torch.tensor([[1.0, -0.5]]))
        model.rnn.weight_hh_l0.copy_(torch.tensor([[0.5]]))
        model.rnn.bias_ih_l0.copy_(torch.tensor([0.1]))
        model.rnn.bias_hh_l0.copy_(torch.tensor([-0.3]))
        model.H0.copy_(torch.tensor([0.2]))
        model.out.weight.copy_(torch.tensor([[2.0], [-1.0]]))
        model.out.bias.copy_(torch.tensor([0.1, 0.0]))
    hs, outs = hand_srn([1.0, -0.5], 0.5, 0.1 - 0.3, 0.2, [2.0, -1.0], [0.1, 0.0], SEQ)
    with torch.no_grad():
        hidden, logits = model(one_hot(SEQ))
    assert hidden.shape == (1, 4, 1) and logits.shape == (1, 4, 2)
    assert hidden[0, :, 0].tolist() == pytest.approx(hs, abs=1e-6)
    assert logits[0].tolist() == [pytest.approx(o, abs=1e-6) for o in outs]
    assert model.initial_state().item() == pytest.approx(math.tanh(0.2))


def hand_lstm(w_ih, w_hh, bias, seq):
    """One LSTM unit; w_ih[k][a], w_hh[k], bias[k] for gates k = input, forget, cell input, output."""
    h = c = 0.0
    rows = {k: [] for k in ("hidden", "context", "input_gate", "forget_gate", "cell_input", "output_gate")}
    for a in seq:
        pre = [w_ih[k][a] + w_hh[k] * h + bias[k] for k in range(4)]
        i, f, g, o = sigmoid(pre[0]), sigmoid(pre[1]), math.tanh(pre[2]), sigmoid(pre[3])
        c = f * c + i * g
        h = o * math.tanh(c)
        for k, value in zip(rows, (h, c, i, f, g, o)):
            rows[k].append(value)
    return rows


def test_lstm_forward_and_trace_equal_the_lstm_equations_by_hand():
    model = LSTM_model(2, 1, 2)
    # torch stacks the gates as input, forget, cell input, output; distinct numbers for each
    w_ih = [[0.5, -1.0], [1.5, 0.2], [-0.8, 1.2], [0.3, 0.9]]
    w_hh = [[0.4], [-0.6], [1.1], [0.7]]
    bias = [0.1, 0.5, -0.2, 0.0]
    with torch.no_grad():
        model.lstm.weight_ih_l0.copy_(torch.tensor(w_ih))
        model.lstm.weight_hh_l0.copy_(torch.tensor(w_hh))
        model.lstm.bias_ih_l0.copy_(torch.tensor(bias))
        model.lstm.bias_hh_l0.zero_()
        model.out.weight.copy_(torch.tensor([[1.0], [-2.0]]))
        model.out.bias.copy_(torch.tensor([0.0, 0.3]))
    expected = hand_lstm(w_ih, [w[0] for w in w_hh], bias, SEQ)
    with torch.no_grad():
        hidden, logits = model(one_hot(SEQ))
        trace = model.trace(one_hot(SEQ))
    assert hidden[0, :, 0].tolist() == pytest.approx(expected["hidden"], abs=1e-6)
    assert logits[0, :, 0].tolist() == pytest.approx(expected["hidden"], abs=1e-6)
    assert logits[0, :, 1].tolist() == pytest.approx([-2 * x + 0.3 for x in expected["hidden"]], abs=1e-6)
    for key, values in expected.items():
        assert trace[key][0, :, 0].tolist() == pytest.approx(values, abs=1e-6), key
    assert trace["initial"].tolist() == [0.0]


def test_population_candidates_are_independent_elman_networks_by_hand():
    """Two one-unit SRN candidates fused; each must compute its own hand-worked sequence, unaffected by the other."""
    pop = Population("srn", 2, 1, 2, size=2)
    params = [dict(w=[1.0, -0.5], u=0.5, b=0.2, h0=0.3, v=[2.0, -1.0], c=[0.1, 0.0]),
              dict(w=[-0.7, 0.9], u=-0.8, b=-0.1, h0=-0.4, v=[0.5, 1.5], c=[0.0, -0.2])]
    with torch.no_grad():
        pop.rnn.weight_ih_l0.copy_(torch.tensor([p["w"] for p in params]))
        pop.rnn.weight_hh_l0.copy_(torch.diag(torch.tensor([p["u"] for p in params])))
        pop.rnn.bias_ih_l0.copy_(torch.tensor([p["b"] for p in params]))
        pop.rnn.bias_hh_l0.zero_()
        pop.H0.copy_(torch.tensor([p["h0"] for p in params]))
        out_w = torch.zeros(4, 2)
        out_w[0:2, 0] = torch.tensor(params[0]["v"])
        out_w[2:4, 1] = torch.tensor(params[1]["v"])
        pop.out.weight.copy_(out_w)
        pop.out.bias.copy_(torch.tensor(params[0]["c"] + params[1]["c"]))
        _, logits = pop(one_hot(SEQ))
    assert logits.shape == (1, 4, 2, 2)
    for i, p in enumerate(params):
        hs, outs = hand_srn(p["w"], p["u"], p["b"], p["h0"], p["v"], p["c"], SEQ)
        assert logits[0, :, i].tolist() == [pytest.approx(o, abs=1e-6) for o in outs], i
        alone = pop.candidate(i)
        with torch.no_grad():
            hidden, own = alone(one_hot(SEQ))
        assert hidden[0, :, 0].tolist() == pytest.approx(hs, abs=1e-6)
        assert own[0].tolist() == [pytest.approx(o, abs=1e-6) for o in outs]


def test_population_lstm_candidates_are_independent_lstms_by_hand():
    """Two one-unit LSTM candidates in nn.LSTM's documented layout: gate blocks of size 2, candidate i at row 2q + i."""
    pop = Population("lstm", 2, 1, 2, size=2)
    cands = [dict(w_ih=[[0.5, -1.0], [1.5, 0.2], [-0.8, 1.2], [0.3, 0.9]], w_hh=[0.4, -0.6, 1.1, 0.7],
                  bias=[0.1, 0.5, -0.2, 0.0], v=[1.0, -2.0], c=[0.0, 0.3]),
             dict(w_ih=[[-0.3, 0.8], [0.2, 1.0], [1.4, -0.6], [-0.5, 0.4]], w_hh=[-0.9, 0.3, 0.6, -0.2],
                  bias=[0.0, -0.4, 0.3, 0.2], v=[-1.5, 0.5], c=[0.2, -0.1])]
    with torch.no_grad():
        pop.rnn.weight_ih_l0.zero_()
        pop.rnn.weight_hh_l0.zero_()
        pop.rnn.bias_ih_l0.zero_()
        pop.rnn.bias_hh_l0.zero_()
        pop.out.weight.zero_()
        for i, p in enumerate(cands):
            for q in range(4):
                pop.rnn.weight_ih_l0[2 * q + i] = torch.tensor(p["w_ih"][q])
                pop.rnn.weight_hh_l0[2 * q + i, i] = p["w_hh"][q]
                pop.rnn.bias_ih_l0[2 * q + i] = p["bias"][q]
            pop.out.weight[2 * i:2 * i + 2, i] = torch.tensor(p["v"])
            pop.out.bias[2 * i:2 * i + 2] = torch.tensor(p["c"])
        _, logits = pop(one_hot(SEQ))
    for i, p in enumerate(cands):
        hs = hand_lstm(p["w_ih"], p["w_hh"], p["bias"], SEQ)["hidden"]
        outs = [[p["v"][0] * h + p["c"][0], p["v"][1] * h + p["c"][1]] for h in hs]
        assert logits[0, :, i].tolist() == [pytest.approx(o, abs=1e-6) for o in outs], i
        alone = pop.candidate(i)
        with torch.no_grad():
            hidden, own = alone(one_hot(SEQ))
            trace = alone.trace(one_hot(SEQ))
        assert hidden[0, :, 0].tolist() == pytest.approx(hs, abs=1e-6)
        assert own[0].tolist() == [pytest.approx(o, abs=1e-6) for o in outs]
        assert trace["hidden"][0, :, 0].tolist() == pytest.approx(hs, abs=1e-6)


def test_population_gradient_never_crosses_between_candidates():
    torch.manual_seed(0)
    pop = Population("lstm", 2, 2, 2, size=3)
    _, logits = pop(one_hot(SEQ))
    logits[:, :, 1].sum().backward()  # a loss of candidate 1 alone
    grad_out = pop.out.weight.grad
    # rows of the output layer that belong to candidates 0 and 2 get nothing
    assert grad_out[0:2].abs().max() == 0 and grad_out[4:6].abs().max() == 0
    assert grad_out[2:4, 2:4].abs().max() > 0
    # the off-block recurrent weights get a zero gradient (the hook masks them)
    mask = pop.mask_hh
    assert (pop.rnn.weight_hh_l0.grad * (1 - mask)).abs().max() == 0
    assert mask.shape == (4 * 6, 6) and mask.sum() == 4 * 3 * 2 * 2
