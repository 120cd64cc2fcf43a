"""Tests for seq_plot.py: plots written without a display, clean figures, clear errors for bad checkpoints."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import seq_plot
from lab.common.figures import pyplot
from lab.common.errors import run_main
from seq_models import build_model, save_checkpoint
from lab.recurrent.languages import lang_tag
from lab.recurrent import plots as seq_plots
from lab.recurrent import tracing as seq_trace
from conftest import is_jpeg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_checkpoint(folder, lang, model, hid, k, embed=False, num_symbols=None):
    """An (untrained) checkpoint as seq_train.py writes it."""
    n = num_symbols or {"anb2n": 2, "anb2nc3n": 3, "reber": 7}[lang]
    config = dict(lang=lang, embed=embed, length=4 if lang != "reber" else 5, model=model,
                  num_input=n, num_hid=hid, num_out=n)
    torch.manual_seed(k)
    net = build_model(config)
    path = os.path.join(folder, f"{lang_tag(lang, embed)}_{model}{hid}_{k}.pth")
    save_checkpoint(path, net, config, seen=k * 1000)
    return path


def test_srn_plot_course_file_name(tmp_path, capsys, no_display):
    (tmp_path / "net").mkdir()
    make_checkpoint(tmp_path / "net", "anb2n", "srn", 2, 100)
    status = seq_plot.main(["--lang", "anb2n", "--epoch", "100", "--out_path", str(tmp_path / "net"),
                            "--plot_path", str(tmp_path / "plot"), "--num_plot", "3"])
    out = capsys.readouterr().out
    assert status == 0
    assert sorted(os.listdir(tmp_path / "plot")) == ["anb2n_srn2.json", "anb2n_srn2_01.jpg"]
    assert is_jpeg(tmp_path / "plot" / "anb2n_srn2_01.jpg")
    assert "H0 = " in out and out.count("symbol= A") == 3


def test_lstm_plots_pairs_3d_views_and_context(tmp_path, capsys, no_display):
    net = tmp_path / "net"
    net.mkdir()
    make_checkpoint(net, "anb2nc3n", "lstm", 3, 10)
    make_checkpoint(net, "anb2nc3n", "lstm", 3, 50)
    for extra in ([], ["--context"]):
        assert seq_plot.main(["--lang", "anb2nc3n", "--model", "lstm", "--out_path", str(net),
                              "--plot_path", str(tmp_path / "plot"), "--num_plot", "2", *extra]) == 0
    out = capsys.readouterr().out
    assert f"loaded {net / 'anb2nc3n_lstm3_50.pth'}" in out  # the latest by default
    names = sorted(n for n in os.listdir(tmp_path / "plot") if n.endswith(".jpg"))
    views = ["3d_front", "3d_side", "3d_top"]
    expected = [f"anb2nc3n_lstm3_{s}.jpg" for s in ["01", "02", "12", *views]]
    expected += [f"anb2nc3n_lstm3_context_{s}.jpg" for s in ["01", "02", "12", *views]]
    assert names == sorted(expected)
    assert all(is_jpeg(tmp_path / "plot" / n) for n in names)


def test_every_figure_starts_clean(no_display):
    """Each saved figure holds one scatter of its own data (the course's plots leaked earlier ones)."""
    plt = pyplot(False)
    rng = np.random.default_rng(0)
    points, states = rng.uniform(-1, 1, (40, 3)), rng.integers(1, 9, 40)
    first = seq_plots.pair_figure(plt, points, states, 0, 1, initial=np.zeros(3))
    second = seq_plots.pair_figure(plt, points, states, 1, 2)
    assert first is not second
    assert len(second.axes[0].collections) == 1 and len(second.axes[0].lines) == 0
    assert len(first.axes[0].collections) == 1 and len(first.axes[0].lines) == 1  # the initial-state x
    plt.close("all")


def test_save_plots_closes_its_figures(tmp_path, no_display):
    plt = pyplot(False)
    plt.close("all")
    rng = np.random.default_rng(1)
    written = seq_plots.save_plots(plt, (rng.uniform(-1, 1, (30, 3)), rng.integers(1, 5, 30)),
                                  str(tmp_path / "x"), "t")
    assert len(written) == 6 and plt.get_fignums() == []


def test_show_without_display_does_not_hang(tmp_path):
    net = tmp_path / "net"
    net.mkdir()
    make_checkpoint(net, "anb2nc3n", "srn", 4, 10)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    proc = subprocess.run([sys.executable, "seq_plot.py", "--lang", "anb2nc3n", "--out_path", str(net),
                           "--plot_path", str(tmp_path / "plot"), "--num_plot", "1", "--show"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "no display here" in proc.stderr
    assert len([n for n in os.listdir(tmp_path / "plot") if n.endswith(".jpg")]) == 6 + 3  # 6 pairs of 4 units, 3 views


def run_plot(argv, capsys):
    status = run_main(seq_plot.main, argv)
    return status, capsys.readouterr().err


def test_missing_checkpoint_lists_existing_ones(tmp_path, capsys):
    make_checkpoint(tmp_path, "anb2n", "srn", 2, 10)
    status, err = run_plot(["--lang", "anb2n", "--epoch", "100", "--out_path", str(tmp_path)], capsys)
    assert status == 1
    assert f"no checkpoint {tmp_path / 'anb2n_srn2_100.pth'}" in err
    assert "anb2n_srn2_10.pth" in err and "Traceback" not in err
    status, err = run_plot(["--lang", "reber", "--model", "lstm", "--out_path", str(tmp_path / "none")], capsys)
    assert status == 1 and "there are no checkpoints" in err


def test_mismatched_checkpoint_is_refused(tmp_path, capsys):
    # a 3-unit network saved under a 2-unit name
    path = make_checkpoint(tmp_path, "anb2n", "srn", 3, 20)
    os.rename(path, tmp_path / "anb2n_srn2_20.pth")
    status, err = run_plot(["--lang", "anb2n", "--out_path", str(tmp_path)], capsys)
    assert status == 1 and "holds a srn with 3 hidden units" in err and "anb2n_srn2_20.pth" in err
    # weights that do not fit the config
    config = dict(lang="anb2n", embed=False, length=4, model="srn", num_input=2, num_hid=2, num_out=2)
    save_checkpoint(tmp_path / "anb2n_srn2_30.pth", build_model(dict(config, num_hid=5)), config)
    status, err = run_plot(["--lang", "anb2n", "--epoch", "30", "--out_path", str(tmp_path)], capsys)
    assert status == 1 and "do not fit" in err and "anb2n_srn2_20.pth" in err
    # not a checkpoint at all
    (tmp_path / "anb2n_srn2_40.pth").write_bytes(b"\x00junk")
    status, err = run_plot(["--lang", "anb2n", "--epoch", "40", "--out_path", str(tmp_path)], capsys)
    assert status == 1 and "not a readable checkpoint" in err and "Traceback" not in err


def test_bad_plot_flags(tmp_path, capsys):
    make_checkpoint(tmp_path, "anb2n", "srn", 2, 10)
    status, err = run_plot(["--lang", "anb2n", "--context", "--out_path", str(tmp_path)], capsys)
    assert status == 1 and "--context plots an LSTM's cell states" in err
    for flag, value in (("--num_plot", "0"), ("--hid", "0"), ("--hid", "-3"), ("--epoch", "0")):
        with pytest.raises(SystemExit) as exit_:
            run_plot(["--lang", "anb2n", flag, value, "--out_path", str(tmp_path)], capsys)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and f"argument {flag}: must be above 0, got {value}" in err, err
    with pytest.raises(SystemExit) as exit_:
        run_plot(["--lang", "xyz"], capsys)
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_collect_states_for_analysis():
    """The flat per-position arrays that later analysis (state extraction) builds on."""
    from lab.recurrent.languages import make_language

    lang = make_language("reber", embed=True)
    torch.manual_seed(0)
    model = build_model(dict(model="lstm", num_input=7, num_hid=4, num_out=7, lang="reber", embed=True, length=5))
    rng = np.random.default_rng(0)
    samples = [lang.get_sequence(rng) for _ in range(5)]
    data = seq_trace.collect_states(model, lang, samples)
    rows = sum(len(s[1]) for s in samples)
    for key in ("hidden", "context", "input_gate", "forget_gate", "cell_input", "output_gate", "output", "prob"):
        assert data[key].shape[0] == rows
    assert data["state"].tolist() == np.concatenate([s[2] for s in samples]).tolist()
    assert data["symbol"].tolist() == np.concatenate([s[0][:-1] for s in samples]).tolist()
    np.testing.assert_allclose(data["output"].sum(1), 1.0, rtol=1e-5)


def test_one_unit_network_says_there_is_nothing_to_plot(tmp_path, capsys, no_display):
    make_checkpoint(tmp_path, "anb2n", "srn", 1, 10)
    status = seq_plot.main(["--lang", "anb2n", "--hid", "1", "--num_plot", "1", "--out_path", str(tmp_path),
                            "--plot-dir", str(tmp_path / "plot")])
    out = capsys.readouterr().out
    assert status == 0 and "no plots: a network with 1 hidden unit has no pair of units to plot" in out
    assert os.listdir(tmp_path / "plot") == ["anb2n_srn1.json"]  # only the record of the run


def test_plot_dir_is_an_alias_of_plot_path():
    parser = seq_plot.build_parser()
    assert parser.parse_args(["--plot-dir", "a"]).plot_path == parser.parse_args(["--plot_path", "a"]).plot_path == "a"


def test_weights_by_name_and_legend_by_state_name(tmp_path, capsys, no_display):
    """SRN weights as H0, W, U, biases, V, c; LSTM rows by gate (i, f, g, o); the legend names the states."""
    make_checkpoint(tmp_path, "anb2n", "srn", 2, 10)
    make_checkpoint(tmp_path, "anb2nc3n", "lstm", 3, 10)
    assert seq_plot.main(["--lang", "anb2n", "--num_plot", "2", "--out_path", str(tmp_path),
                          "--plot_path", str(tmp_path / "plot")]) == 0
    out = capsys.readouterr().out
    for line in ("H0 = ", "W = rnn.weight_ih_l0, input -> hidden:", "U = rnn.weight_hh_l0, hidden -> hidden",
                 "hidden biases b_W = rnn.bias_ih_l0 and b_U = rnn.bias_hh_l0:", "V = out.weight, hidden -> output:",
                 "output biases c = out.bias:"):
        assert line in out, line
    record = json.loads((tmp_path / "plot" / "anb2n_srn2.json").read_text())["results"]
    assert set(record["state_names"]) <= {"A1", "A2", "A3", "A4"} | {f"b{k}" for k in range(8)}
    assert seq_plot.main(["--lang", "anb2nc3n", "--model", "lstm", "--num_plot", "2", "--out_path", str(tmp_path),
                          "--plot_path", str(tmp_path / "plot")]) == 0
    out = capsys.readouterr().out
    assert "lstm.weight_ih_l0, input -> gates:" in out and "(i: input gate, f: forget gate, g: cell input, o: " in out
    rows = [line.split()[:3] for line in out.splitlines() if line.startswith("  ") and " unit " in line]
    assert rows[:12] == [[g, "unit", str(u)] for g in "ifgo" for u in range(3)]  # torch's order, 3 rows per gate
    plt = pyplot(False)
    names = ["A1", "A2", "b1", "b0"]
    fig = seq_plots.pair_figure(plt, np.zeros((4, 2)), np.arange(4), 0, 1, names=names)
    legend = fig.legends[0]  # beside the axes: every state by its name (blank entries pad short columns)
    assert sorted(t.get_text() for t in legend.get_texts() if t.get_text()) == sorted(names)
    assert legend.get_title().get_text() == "language state"
    plt.close("all")


def test_the_checkpoint_chosen_by_name_has_seq_trains_default_size():
    """--hid left out: seq_train.py's default for the language and model (its --help: 4 for anbncn, 3 with lstm)."""
    assert seq_plot.PlotSettings(**vars(seq_plot.build_parser().parse_args(["--lang", "anbncn"]))).series_hid == 4
    settings = seq_plot.PlotSettings(lang="anbncn", model="lstm")
    assert settings.series_hid == 3 and settings.hid is None  # the record keeps the flag as given
    assert seq_plot.PlotSettings(lang="anbncn", hid=7).series_hid == 7
    assert list(settings.as_config())[:9] == ["lang", "embed", "model", "hid", "epoch", "checkpoint", "out_path",
                                              "plot_path", "length"]
