"""Part 1 models: shapes, log-probabilities, parameter arithmetic, structure, checkpoints."""
import pytest
import torch
import torch.nn as nn

from kuzu import NetConv, NetFull, NetLin, build_model, load_checkpoint, parameter_arithmetic


def all_nets():
    torch.manual_seed(0)
    return [NetLin(), NetFull(40), NetConv(4, 8, 16)]


def test_every_net_returns_log_probabilities_of_shape_b_by_10():
    batch = torch.randn(5, 1, 28, 28)
    for model in all_nets():
        model.eval()
        output = model(batch)
        assert output.shape == (5, 10)
        assert torch.allclose(output.exp().sum(dim=1), torch.ones(5), atol=1e-5)
        assert (output <= 0).all()


def test_parameter_counts_equal_the_hand_arithmetic():
    assert parameter_arithmetic(NetLin()) == (7850, ["out: 784*10+10 = 7,850", "total = 7,850"])
    total, lines = parameter_arithmetic(NetFull(300))
    assert total == 784 * 300 + 300 + 300 * 10 + 10 == 238510
    assert lines[:2] == ["hid: 784*300+300 = 235,500", "out: 300*10+10 = 3,010"]
    total, lines = parameter_arithmetic(NetConv(32, 64, 128))
    expected = (1 * 25 * 32 + 32) + (32 * 25 * 64 + 64) + (64 * 49 * 128 + 128) + (128 * 10 + 10)
    assert total == expected == sum(p.numel() for p in NetConv(32, 64, 128).parameters())
    assert lines[0] == "conv1: 1*5*5*32+32 = 832"
    assert lines[2] == "fc: 3136*128+128 = 401,536"


def test_netconv_has_two_conv_layers_and_one_hidden_fully_connected_layer():
    model = NetConv()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs) == 2
    assert len(linears) == 2 and linears[-1].out_features == 10  # one hidden layer, one output layer


def test_netfull_hidden_size_is_a_constructor_argument():
    assert NetFull(70).hid.out_features == 70


def test_checkpoint_round_trip_rebuilds_the_same_model(tmp_path):
    torch.manual_seed(3)
    model = build_model("conv", conv1=4, conv2=6, fc=12, dropout=0.1).eval()
    path = tmp_path / "net.pth"
    torch.save({"model": {"net": "conv", "conv1": 4, "conv2": 6, "fc": 12, "dropout": 0.1},
                "state_dict": model.state_dict()}, path)
    loaded, checkpoint = load_checkpoint(str(path))
    batch = torch.randn(3, 1, 28, 28)
    assert torch.equal(loaded.eval()(batch), model(batch))
    assert checkpoint["model"]["conv2"] == 6


NON_DEFAULT = {"lin": {}, "full": {"hid": 37}, "conv": {"conv1": 3, "conv2": 5, "fc": 7, "dropout": 0.35}}  # none the default


def sizes_of(model):
    """The sizes a model was built with, read from its layers."""
    if isinstance(model, NetFull):
        return {"hid": model.hid.out_features}
    if isinstance(model, NetConv):
        return {"conv1": model.conv1.out_channels, "conv2": model.conv2.out_channels, "fc": model.fc.out_features,
                "dropout": model.dropout.p}
    assert isinstance(model, NetLin)
    return {}


@pytest.mark.parametrize("net", ["lin", "full", "conv"])
def test_saved_checkpoint_rebuilds_every_net_with_its_non_default_sizes(tmp_path, net):
    from kuzu import model_settings, save_kuzu_checkpoint

    torch.manual_seed(7)
    sizes = NON_DEFAULT[net]
    model = build_model(net, **sizes)
    assert sizes_of(model) == sizes  # the model under test really has the unusual sizes
    settings = model_settings(net, **sizes)
    assert settings == {"net": net, **sizes}
    path = str(tmp_path / f"{net}.pth")
    save_kuzu_checkpoint(path, model, settings, epoch=1)
    loaded, checkpoint = load_checkpoint(path)
    assert type(loaded) is type(model) and sizes_of(loaded) == sizes
    assert checkpoint["epoch"] == 1 and checkpoint["config"] == {"net": net, **sizes}
    batch = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(batch), model.eval()(batch))
