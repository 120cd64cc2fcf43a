"""Part 1 models against independent references written here in plain numpy.

Each model gets weights set by hand (seeded draws), and its output is compared
with the forward pass the course specifies, computed with explicit numpy
operations: a convolution as a sum of shifted slices, 2x2 max pooling by
reshaping, tanh / ReLU, and log-softmax as z - log(sum(exp(z))). Swapping an
activation, the pooling, the padding or the final log_softmax changes the
numbers and fails here.
"""
import numpy as np
import pytest
import torch

from kuzu import NetConv, NetFull, NetLin, parameter_arithmetic


# ---------------------------------------------------------------- references
def np_log_softmax(z):
    """log of the softmax over the last axis, from its definition (shifted for stability)."""
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def np_conv2d_same(x, weight, bias, pad):
    """Cross-correlation (what deep-learning 'convolution' means) with zero padding, by shifted slices.

    x (B, Cin, H, W), weight (Cout, Cin, K, K), bias (Cout,) -> (B, Cout, H+2p-K+1, W+2p-K+1).
    """
    b, cin, h, w = x.shape
    cout, _, k, _ = weight.shape
    padded = np.zeros((b, cin, h + 2 * pad, w + 2 * pad))
    padded[:, :, pad:pad + h, pad:pad + w] = x
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    out = np.zeros((b, cout, oh, ow)) + bias[None, :, None, None]
    for i in range(k):
        for j in range(k):
            window = padded[:, :, i:i + oh, j:j + ow]  # (B, Cin, oh, ow)
            out += np.einsum("bchw,oc->bohw", window, weight[:, :, i, j])
    return out


def np_maxpool2(x):
    """2x2 max pooling with stride 2."""
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def relu(x):
    return np.maximum(x, 0.0)


def set_linear(layer, rng, scale):
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(rng.normal(0, scale, tuple(layer.weight.shape))))
        layer.bias.copy_(torch.from_numpy(rng.normal(0, scale, tuple(layer.bias.shape))))
    return layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()


def tiny_images(batch=3, seed=0):
    """A small batch in the normalised range [-1, 1], with a bright stroke so convolutions see structure."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (batch, 1, 28, 28))
    x[:, 0, 5:20, 9:12] = 1.0
    return x


def run(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x).float()).double().numpy()


# ---------------------------------------------------------------- NetLin
def test_netlin_is_one_linear_map_then_log_softmax():
    torch.manual_seed(0)
    rng = np.random.default_rng(10)
    model = NetLin().eval()
    w, b = set_linear(model.out, rng, 0.05)
    x = tiny_images(3, seed=1)
    z = x.reshape(3, 784) @ w.T + b
    expected = np_log_softmax(z)
    got = run(model, x)
    assert got.shape == (3, 10)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # log-probabilities, not raw scores or probabilities: the logits are far from normalised here
    assert not np.allclose(got, z, atol=1e-2)
    assert not np.allclose(got, np.exp(expected), atol=1e-2)


def test_netlin_pixels_are_flattened_row_by_row():
    """A single lit pixel at (row 3, col 17) must meet weight column 3*28+17, as x.view(B, 784) orders it."""
    model = NetLin().eval()
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias.zero_()
        model.out.weight[4, 3 * 28 + 17] = 5.0
    x = np.zeros((1, 1, 28, 28))
    x[0, 0, 3, 17] = 1.0
    z = np.zeros(10)
    z[4] = 5.0
    np.testing.assert_allclose(run(model, x)[0], np_log_softmax(z), atol=1e-6)


# ---------------------------------------------------------------- NetFull
@pytest.mark.parametrize("hid", [3, 17])
def test_netfull_is_tanh_hidden_layer_then_linear_then_log_softmax(hid):
    torch.manual_seed(0)
    rng = np.random.default_rng(20 + hid)
    model = NetFull(hid).eval()
    w1, b1 = set_linear(model.hid, rng, 0.08)  # pre-activations of order 1, both signs
    w2, b2 = set_linear(model.out, rng, 1.0)
    x = tiny_images(4, seed=2)
    pre = x.reshape(4, 784) @ w1.T + b1
    assert (pre < -0.5).any() and (pre > 0.5).any()  # the activation's shape matters on this input
    expected = np_log_softmax(np.tanh(pre) @ w2.T + b2)
    np.testing.assert_allclose(run(model, x), expected, atol=1e-5)
    # sanity of the reference itself: the wrong activations give other numbers
    for wrong in (relu(pre), 1 / (1 + np.exp(-pre))):
        assert not np.allclose(np_log_softmax(wrong @ w2.T + b2), expected, atol=1e-3)


# ---------------------------------------------------------------- NetConv
def conv_reference(model, x, dropout_mask=None, keep=1.0):
    """The NetConv forward pass from the course's description, with the model's own weights."""
    def p(t):
        return t.detach().double().numpy()

    h = np_maxpool2(relu(np_conv2d_same(x, p(model.conv1.weight), p(model.conv1.bias), pad=2)))  # 28 -> 14
    h = np_maxpool2(relu(np_conv2d_same(h, p(model.conv2.weight), p(model.conv2.bias), pad=2)))  # 14 -> 7
    assert h.shape[2:] == (7, 7)
    flat = h.reshape(len(x), -1)  # channel, row, column order
    fc = relu(flat @ p(model.fc.weight).T + p(model.fc.bias))
    if dropout_mask is not None:
        fc = fc * dropout_mask / keep
    return np_log_softmax(fc @ p(model.out.weight).T + p(model.out.bias)), fc


def make_conv(conv1=2, conv2=3, fc=6, dropout=0.5, seed=0):
    torch.manual_seed(seed)
    model = NetConv(conv1, conv2, fc, dropout)
    rng = np.random.default_rng(seed + 100)
    with torch.no_grad():
        for layer, scale in ((model.conv1, 0.4), (model.conv2, 0.25), (model.fc, 0.15), (model.out, 0.8)):
            layer.weight.copy_(torch.from_numpy(rng.normal(0, scale, tuple(layer.weight.shape))))
            layer.bias.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(layer.bias.shape))))
    return model


def test_netconv_eval_matches_conv_relu_maxpool_reference():
    model = make_conv().eval()
    x = tiny_images(2, seed=3)
    expected, _ = conv_reference(model, x)
    got = run(model, x)
    assert got.shape == (2, 10)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_netconv_reference_tells_max_from_average_pooling():
    """The reference itself tells max from average pooling (so the test above can catch the swap)."""
    model = make_conv().eval()
    x = tiny_images(2, seed=3)
    expected, _ = conv_reference(model, x)
    p = lambda t: t.detach().double().numpy()  # noqa: E731
    h = relu(np_conv2d_same(x, p(model.conv1.weight), p(model.conv1.bias), pad=2))
    avg = h.reshape(2, 2, 14, 2, 14, 2).mean(axis=(3, 5))
    h2 = relu(np_conv2d_same(avg, p(model.conv2.weight), p(model.conv2.bias), pad=2))
    h2 = h2.reshape(2, 3, 7, 2, 7, 2).mean(axis=(3, 5))
    fc = relu(h2.reshape(2, -1) @ p(model.fc.weight).T + p(model.fc.bias))
    avg_out = np_log_softmax(fc @ p(model.out.weight).T + p(model.out.bias))
    assert not np.allclose(avg_out, expected, atol=1e-3)


def test_netconv_convolutions_keep_the_size_so_an_edge_pixel_still_counts():
    """With padding 2 a lone pixel in the image corner reaches the output; the reference agrees exactly."""
    model = make_conv(seed=4).eval()
    x = -np.ones((2, 1, 28, 28))
    x[0, 0, 0, 0] = 1.0  # differs from image 1 only in the corner pixel
    got = run(model, x)
    expected, _ = conv_reference(model, x)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert not np.allclose(got[0], got[1], atol=1e-7)


def test_netconv_dropout_sits_before_the_output_layer_and_only_in_train_mode():
    model = make_conv(conv1=2, conv2=3, fc=16, dropout=0.5, seed=5)
    x = tiny_images(2, seed=6)
    expected, fc = conv_reference(model, x)
    assert (fc > 0).sum() >= 8  # enough live units that dropping some shows

    seen = []
    hook = model.out.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].detach().double().numpy()))
    try:
        model.train()
        torch.manual_seed(7)
        with torch.no_grad():
            first = model(torch.from_numpy(x).float()).double().numpy()
            second = model(torch.from_numpy(x).float()).double().numpy()
        assert not np.allclose(first, second), "train mode must drop different units on each call"
        for got_in, got_out in zip(seen, (first, second)):
            # inverted dropout with p=0.5: each unit is either 0 or twice its value
            kept = got_in != 0
            np.testing.assert_allclose(got_in[kept], 2 * fc[kept], rtol=1e-4, atol=1e-5)
            assert (~kept & (fc > 1e-6)).any(), "some live unit must be dropped"
            ref_out, _ = conv_reference(model, x, dropout_mask=kept.astype(float), keep=0.5)
            np.testing.assert_allclose(got_out, ref_out, atol=1e-4)

        seen.clear()
        model.eval()
        a, b = run(model, x), run(model, x)
        assert np.array_equal(a, b)
        np.testing.assert_allclose(a, expected, atol=1e-4)
        np.testing.assert_allclose(seen[0], fc, rtol=1e-4, atol=1e-5)  # nothing dropped or scaled
    finally:
        hook.remove()


def test_netconv_without_dropout_is_deterministic_in_train_mode():
    model = make_conv(dropout=0.0, seed=8).train()
    x = tiny_images(2, seed=9)
    expected, _ = conv_reference(model, x)
    np.testing.assert_allclose(run(model, x), expected, atol=1e-4)


# ---------------------------------------------------------------- parameter arithmetic
def test_parameter_arithmetic_for_non_default_sizes_by_hand():
    # NetFull(7): hidden 784*7 + 7 = 5,495; output 7*10 + 10 = 80; total 5,575
    total, lines = parameter_arithmetic(NetFull(7))
    assert total == 5575
    assert lines == ["hid: 784*7+7 = 5,495", "out: 7*10+10 = 80", "total = 5,575"]

    # NetConv(3, 5, 11): conv1 1*5*5*3 + 3 = 78; conv2 3*5*5*5 + 5 = 380;
    # fc (5 channels * 7 * 7 = 245 inputs) 245*11 + 11 = 2,706; out 11*10 + 10 = 120; total 3,284
    total, lines = parameter_arithmetic(NetConv(3, 5, 11, 0.2))
    assert total == 3284
    assert lines == ["conv1: 1*5*5*3+3 = 78", "conv2: 3*5*5*5+5 = 380", "fc: 245*11+11 = 2,706",
                     "out: 11*10+10 = 120", "total = 3,284"]

    # NetLin: 784*10 + 10 = 7,850, whatever else is built
    assert parameter_arithmetic(NetLin())[0] == 7850


def test_parameter_arithmetic_counts_equal_the_layers_tensor_sizes():
    """Another size, counted by hand layer by layer (weights + biases)."""
    model = NetConv(4, 6, 9, 0.1)
    by_hand = (1 * 5 * 5 * 4 + 4) + (4 * 5 * 5 * 6 + 6) + (6 * 7 * 7 * 9 + 9) + (9 * 10 + 10)
    assert by_hand == 104 + 606 + 2655 + 100 == 3465
    assert parameter_arithmetic(model)[0] == 3465
