"""Part 1 models: shapes, log-probabilities, parameter arithmetic, structure, checkpoints."""
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
