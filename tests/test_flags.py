"""Every flag of every command, and the test that shows it does what its help says.

``test_every_flag_has_a_test`` reads each command's --help and this table,
and fails on a flag the table lacks or a test it names that does not exist.
The tests below cover the flags no other test shows at work.

| command | flag | test that shows its effect |
| --- | --- | --- |
| kuzu_main | --net | test_kuzu.py::test_parameter_counts_equal_the_hand_arithmetic |
| kuzu_main | --lr | test_truth_part1.py::test_every_sgd_step_is_the_hand_computed_momentum_update |
| kuzu_main | --mom | test_truth_part1.py::test_other_optimiser_settings_take_the_hand_computed_steps |
| kuzu_main | --epochs | test_truth_part1.py::test_the_runs_differ_between_first_and_last_epoch |
| kuzu_main | --no_cuda | test_runtime.py::test_pick_device_auto_takes_cuda_then_mps_then_cpu |
| kuzu_main | --hid | test_kuzu_main.py::test_full_saves_its_hidden_size_and_tests_on_unshifted_images |
| kuzu_main | --conv1 | test_kuzu_main.py::test_conv_saves_a_checkpoint_that_rebuilds_the_model |
| kuzu_main | --conv2 | test_kuzu_main.py::test_conv_saves_a_checkpoint_that_rebuilds_the_model |
| kuzu_main | --fc | test_kuzu_main.py::test_conv_saves_a_checkpoint_that_rebuilds_the_model |
| kuzu_main | --dropout | test_flags.py::test_kuzu_training_flags_change_the_training |
| kuzu_main | --shift | test_flags.py::test_kuzu_training_flags_change_the_training |
| kuzu_main | --schedule | test_truth_part1.py::test_other_optimiser_settings_take_the_hand_computed_steps |
| kuzu_main | --nesterov, --no-nesterov | test_flags.py::test_kuzu_training_flags_change_the_training |
| kuzu_main | --wd | test_kuzu_recipe.py::test_a_step_with_weight_decay_is_the_hand_computed_one |
| kuzu_main | --ema | test_kuzu_recipe.py::test_the_saved_weights_are_the_hand_computed_average |
| kuzu_main | --smoothing | test_kuzu_recipe.py::test_a_smoothed_step_is_the_hand_computed_one |
| kuzu_main | --tta | test_kuzu_recipe.py::test_the_final_test_over_five_views_is_the_hand_averaged_softmax |
| kuzu_main | --erase | test_kuzu_recipe.py::test_erase_changes_the_training |
| kuzu_main | --batch-size | test_truth_part1.py::test_train_loss_is_the_mean_over_equal_batches |
| kuzu_main | --seed | test_flags.py::test_kuzu_training_flags_change_the_training |
| kuzu_main | --threads | test_kuzu_threads.py::test_training_runs_with_the_threads_asked_for_and_restores_them |
| kuzu_main | --data | test_kuzu_main.py::test_missing_data_gives_one_clear_paragraph_and_no_traceback |
| kuzu_main | --no-download | test_flags.py::test_kuzu_no_download_never_downloads |
| kuzu_main | --compile | test_kuzu_threads.py::test_a_compiled_model_is_used_for_training_and_the_plain_one_saved |
| kuzu_main | --device | test_kuzu_main.py::test_cuda_request_without_cuda_is_a_clear_error |
| kuzu_main | --save | test_truth_part1.py::test_every_sgd_step_is_the_hand_computed_momentum_update |
| kuzu_main | --resume | test_truth_part1.py::test_the_resumed_record_equals_the_uninterrupted_one |
| kuzu_main | --plot-dir, --plot_path | test_flags.py::test_kuzu_dry_run_is_one_batch_into_its_own_files |
| kuzu_main | --dry-run | test_flags.py::test_kuzu_dry_run_is_one_batch_into_its_own_files |
| check_main | --hid | test_check.py::test_sigmoid_hid5_reaches_100_percent |
| check_main | --act | test_check.py::test_step_network_with_set_weights_classifies_all_and_prints_the_exact_table |
| check_main | --init | test_truth_part2.py::test_init_scales_the_initial_weights_and_seed_draws_others |
| check_main | --set_weights | test_truth_part2.py::test_the_stop_comes_after_2000_epochs_in_a_row_at_100_percent |
| check_main | --lr | test_truth_part2.py::test_the_stop_comes_after_2000_epochs_in_a_row_at_100_percent |
| check_main | --epoch | test_truth_part2.py::test_the_stop_comes_after_2000_epochs_in_a_row_at_100_percent |
| check_main | --seed | test_truth_part2.py::test_init_scales_the_initial_weights_and_seed_draws_others |
| check_main | --restarts | test_truth_part2.py::test_restarts_come_after_patience_epochs_without_progress |
| check_main | --patience | test_truth_part2.py::test_restarts_come_after_patience_epochs_without_progress |
| check_main | --plot-dir, --plot_path | test_flags.py::test_check_plot_path_is_the_plot_folder |
| check_main | --data | test_truth_part2.py::test_the_stop_comes_after_2000_epochs_in_a_row_at_100_percent |
| seq_train | --lang | test_seq_train.py::test_short_training_run_learns |
| seq_train | --embed | test_flags.py::test_embedded_reber_through_train_plot_and_fsm |
| seq_train | --length | test_truth_part3.py::test_updates_reports_and_verdict_are_the_hand_computed_ones |
| seq_train | --model | test_seq_train.py::test_short_training_run_learns |
| seq_train | --hid | test_flags.py::test_embedded_reber_through_train_plot_and_fsm |
| seq_train | --optim | test_truth_part3.py::test_updates_reports_and_verdict_are_the_hand_computed_ones |
| seq_train | --lr | test_truth_part3.py::test_updates_reports_and_verdict_are_the_hand_computed_ones |
| seq_train | --mom | test_truth_part3.py::test_updates_reports_and_verdict_are_the_hand_computed_ones |
| seq_train | --init | test_truth_part3.py::test_init_is_the_standard_deviation_of_the_initial_weights |
| seq_train | --epoch | test_truth_part3.py::test_updates_reports_and_verdict_are_the_hand_computed_ones |
| seq_train | --batch | test_truth_part3.py::test_updates_reports_and_verdict_are_the_hand_computed_ones |
| seq_train | --candidates | test_truth_part3.py::test_the_candidate_record_is_what_the_run_printed_and_chose |
| seq_train | --select | test_truth_part3.py::test_the_candidate_record_is_what_the_run_printed_and_chose |
| seq_train | --until | test_truth_part3.py::test_until_stops_after_ten_reports_in_a_row_below_the_threshold |
| seq_train | --out_path, --out-path | test_flags.py::test_embedded_reber_through_train_plot_and_fsm |
| seq_train | --plot_path, --plot-dir | test_flags.py::test_embedded_reber_through_train_plot_and_fsm |
| seq_train | --seed | test_truth_part3.py::test_init_is_the_standard_deviation_of_the_initial_weights |
| seq_train | --resume | test_truth_part3.py::test_a_resumed_runs_record_equals_the_uninterrupted_ones |
| seq_train | --threads | test_flags.py::test_embedded_reber_through_train_plot_and_fsm |
| seq_train | --recipe | test_recipe.py::test_seq_train_recipe_count_writes_the_chosen_network_and_its_record |
| seq_plot | --lang | test_seq_plot.py::test_srn_plot_course_file_name |
| seq_plot | --embed | test_flags.py::test_embedded_reber_through_train_plot_and_fsm |
| seq_plot | --model | test_seq_plot.py::test_lstm_plots_pairs_3d_views_and_context |
| seq_plot | --hid | test_seq_plot.py::test_one_unit_network_says_there_is_nothing_to_plot |
| seq_plot | --epoch | test_seq_plot.py::test_srn_plot_course_file_name |
| seq_plot | --checkpoint | test_flags.py::test_seq_plot_length_seed_and_checkpoint |
| seq_plot | --out_path, --out-path | test_seq_plot.py::test_srn_plot_course_file_name |
| seq_plot | --plot_path, --plot-dir | test_seq_plot.py::test_plot_dir_is_an_alias_of_plot_path |
| seq_plot | --length | test_flags.py::test_seq_plot_length_seed_and_checkpoint |
| seq_plot | --num_plot | test_seq_plot.py::test_srn_plot_course_file_name |
| seq_plot | --context | test_seq_plot.py::test_lstm_plots_pairs_3d_views_and_context |
| seq_plot | --show | test_seq_plot.py::test_show_without_display_does_not_hang |
| seq_plot | --seed | test_flags.py::test_seq_plot_length_seed_and_checkpoint |
| seq_fsm | --lang | test_seq_fsm.py::test_small_trained_network_gives_a_correct_machine_and_files |
| seq_fsm | --embed | test_flags.py::test_embedded_reber_through_train_plot_and_fsm |
| seq_fsm | --model | test_seq_fsm.py::test_mismatched_checkpoint_lists_the_existing_ones |
| seq_fsm | --hid | test_flags.py::test_embedded_reber_through_train_plot_and_fsm |
| seq_fsm | --epoch | test_seq_fsm.py::test_small_trained_network_gives_a_correct_machine_and_files |
| seq_fsm | --checkpoint | test_truth_part3.py::test_states_merge_only_within_total_variation_0_1 |
| seq_fsm | --out_path, --out-path | test_seq_fsm.py::test_small_trained_network_gives_a_correct_machine_and_files |
| seq_fsm | --plot_path, --plot-dir | test_seq_fsm.py::test_small_trained_network_gives_a_correct_machine_and_files |
| seq_fsm | --length | test_flags.py::test_seq_fsm_length_seed_max_states_and_threads |
| seq_fsm | --sequences | test_truth_part3.py::test_states_merge_only_within_total_variation_0_1 |
| seq_fsm | --validate | test_truth_part3.py::test_states_merge_only_within_total_variation_0_1 |
| seq_fsm | --states | test_truth_part3.py::test_states_merge_only_within_total_variation_0_1 |
| seq_fsm | --max_states | test_flags.py::test_seq_fsm_length_seed_max_states_and_threads |
| seq_fsm | --tv | test_truth_part3.py::test_tv_criterion_at_its_edge |
| seq_fsm | --raw | test_seq_fsm.py::test_small_trained_network_gives_a_correct_machine_and_files |
| seq_fsm | --seed | test_flags.py::test_seq_fsm_length_seed_max_states_and_threads |
| seq_fsm | --threads | test_flags.py::test_seq_fsm_length_seed_max_states_and_threads |
| seq_explain | --lang | test_explain.py::test_seq_explain_flags_pick_what_their_help_says |
| seq_explain | --embed | test_explain.py::test_seq_explain_flags_pick_what_their_help_says |
| seq_explain | --model | test_explain.py::test_seq_explain_flags_pick_what_their_help_says |
| seq_explain | --hid | test_explain.py::test_seq_explain_flags_pick_what_their_help_says |
| seq_explain | --epoch | test_explain.py::test_seq_explain_flags_pick_what_their_help_says |
| seq_explain | --checkpoint | test_explain.py::test_seq_explain_flags_pick_what_their_help_says |
| seq_explain | --out_path, --out-path | test_flags.py::test_seq_explain_seed_changes_where_the_search_starts |
| seq_explain | --plot_path, --plot-dir | test_flags.py::test_seq_explain_seed_changes_where_the_search_starts |
| seq_explain | --length | test_explain.py::test_seq_explain_flags_pick_what_their_help_says |
| seq_explain | --seed | test_flags.py::test_seq_explain_seed_changes_where_the_search_starts |
| seq_explain | --beyond | test_explain.py::test_seq_explain_flags_pick_what_their_help_says |
| report | --out | test_report.py::test_a_folder_that_is_not_a_report_is_not_replaced |
| report | --parts | test_report.py::test_part1_heading_tables_and_text_are_the_last_epochs |
| report | --nets | test_report.py::test_part1_heading_tables_and_text_are_the_last_epochs |
| report | --quick | test_report.py::test_progress_lines_name_each_step |
| report | --reuse | test_report.py::test_reuse_missing_kmnist_and_a_failed_part |
| report | --seed | test_report.py::test_part1_heading_tables_and_text_are_the_last_epochs |
| report | --data | test_report.py::test_reuse_missing_kmnist_and_a_failed_part |
"""
import contextlib
import importlib
import io
import json
import os
import re

import numpy as np
import pytest
import torch

import check_main
import kuzu_main
import seq_fsm
import seq_explain
import seq_plot
import seq_train
from conftest import make_noisy_kmnist, run_command
from seq_models import build_model, save_checkpoint

TESTS = os.path.dirname(os.path.abspath(__file__))
COMMANDS = ("kuzu_main", "check_main", "seq_train", "seq_plot", "seq_fsm", "seq_explain", "report")


def help_flags(command):
    """The flags a command's --help lists: one tuple of names (aliases together) per option, --help aside."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        importlib.import_module(command).main(["--help"])
    assert done.value.code == 0
    flags = []
    for line in out.getvalue().splitlines():
        if re.match(r"^  -", line):
            names = tuple(part.split()[0] for part in line.strip().split(", ") if part.startswith("-"))
            if "--help" not in names:
                flags.append(names)
    return flags


def table():
    """{(command, flag): "file::test"} from this module's docstring, each alias of a row its own key."""
    rows = {}
    for command, flags, test in re.findall(r"^\| (\w+) \| (-[^|]*?) \| (\S+) \|$", __doc__, re.M):
        for flag in flags.split(", "):
            assert (command, flag) not in rows, f"{command} {flag} has two rows in the table"
            rows[(command, flag)] = test
    return rows


def test_every_flag_has_a_test():
    rows = table()
    listed = set()
    for command in COMMANDS:
        for names in help_flags(command):
            for name in names:
                assert (command, name) in rows, f"{command} {name} has no test in the table"
                listed.add((command, name))
    assert set(rows) == listed, f"the table names flags no command has: {set(rows) - listed}"
    for test in set(rows.values()):
        file, name = test.split("::")
        with open(os.path.join(TESTS, file), encoding="utf-8") as handle:
            assert re.search(rf"^def {name}\(", handle.read(), re.M), f"{test} does not exist"


# ---------------------------------------------------------------------------------------------------------- Part 1

@pytest.fixture(scope="module")
def kmnist(tmp_path_factory):
    root = tmp_path_factory.mktemp("noisy")
    arrays = make_noisy_kmnist(str(root), train=200, test=50)
    return str(root), arrays


def kuzu_weights(kmnist, folder, *flags):
    """One epoch of kuzu_main.py, stopped by Ctrl-C before its plots; returns (its checkpoint, stdout)."""
    def stop(line):
        if line.startswith("Most confused"):
            raise KeyboardInterrupt
    save = folder / "net.pth"
    status, out, err = run_command(kuzu_main.main, ["--data", kmnist[0], "--device", "cpu", "--epochs", "1",
                                                    "--batch-size", "50", "--plot-dir", str(folder), "--save",
                                                    str(save), *flags], stop)
    assert status == 130, err
    return torch.load(save, weights_only=True), out


def same_weights(a, b):
    return all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])


def test_kuzu_training_flags_change_the_training(kmnist, tmp_path):
    """--seed, --shift, --dropout and --no-nesterov each change what one epoch learns, and say so where they should."""
    lin = ["--net", "lin"]
    base, _ = kuzu_weights(kmnist, tmp_path / "lin", *lin)
    again, _ = kuzu_weights(kmnist, tmp_path / "again", *lin)
    assert same_weights(base, again)  # the comparison means something: the same flags repeat exactly
    for flag, value in (("--seed", "2"), ("--shift", "2")):
        other, out = kuzu_weights(kmnist, tmp_path / flag, *lin, flag, value)
        assert not same_weights(base, other), flag
        assert f" {flag[2:]}={value} " in out
    conv = ["--net", "conv", "--conv1", "2", "--conv2", "2", "--fc", "4", "--threads", "1"]
    plain, _ = kuzu_weights(kmnist, tmp_path / "conv", *conv)
    assert plain["config"]["dropout"] == 0.2 and plain["resume"]["optimizer"]["param_groups"][0]["nesterov"]
    no_drop, _ = kuzu_weights(kmnist, tmp_path / "nodrop", *conv, "--dropout", "0")
    assert no_drop["config"]["dropout"] == 0 and not same_weights(plain, no_drop)
    plain_momentum, out = kuzu_weights(kmnist, tmp_path / "nonesterov", *conv, "--no-nesterov")
    assert not plain_momentum["resume"]["optimizer"]["param_groups"][0]["nesterov"] and " nesterov" not in out
    assert not same_weights(plain, plain_momentum)


def test_kuzu_dry_run_is_one_batch_into_its_own_files(kmnist, tmp_path):
    """--dry-run: one epoch of a single batch whatever --epochs says, files named kuzu_<net>_dry-run_*, in the
    folder given by --plot_path (the course's name of --plot-dir)."""
    status, out, err = run_command(kuzu_main.main, ["--net", "lin", "--data", kmnist[0], "--device", "cpu",
                                                    "--epochs", "3", "--batch-size", "50", "--dry-run",
                                                    "--plot_path", str(tmp_path / "plots")])
    assert status == 0, err
    losses = re.findall(r"^Train Epoch: (\d+) \[0/200 \(0%\)\]\tLoss: ([\d.]+)$", out, re.M)
    assert len(losses) == 1 and losses[0][0] == "1" and out.count("Test set:") == 1
    assert sorted(os.listdir(tmp_path / "plots")) == [f"kuzu_lin_dry-run{s}" for s in
                                                       (".json", "_confusion.jpg", "_curve.jpg", "_pairs.jpg", "_samples.jpg")]
    epochs = json.loads((tmp_path / "plots" / "kuzu_lin_dry-run.json").read_text())["results"]["epochs"]
    assert len(epochs) == 1 and epochs[0]["train_loss"] == pytest.approx(float(losses[0][1]), abs=1e-6)


def test_kuzu_no_download_never_downloads(tmp_path):
    status, out, err = run_command(kuzu_main.main, ["--data", str(tmp_path / "none"), "--no-download",
                                                    "--plot-dir", str(tmp_path / "plots")])
    assert status == 1 and "downloading was switched off with --no-download" in err
    assert "downloading it with torchvision" not in out and not (tmp_path / "none").exists()


# ---------------------------------------------------------------------------------------------------------- Part 2

def test_check_plot_path_is_the_plot_folder(tmp_path):
    status, _, err = run_command(check_main.main, ["--act", "step", "--hid", "4", "--set_weights",
                                                   "--plot_path", str(tmp_path / "plots")])
    assert status == 0, err
    assert sorted(os.listdir(tmp_path / "plots")) == sorted(
        [f"hid_4_{k}.jpg" for k in range(4)] + ["out_4.jpg", "check_net_4.jpg", "check_step_4_set.json"])


# ---------------------------------------------------------------------------------------------------------- Part 3

def threads_at(prefix, seen):
    """An on_line hook that notes torch's thread count when a line starts with ``prefix``."""
    def hook(line):
        if line.startswith(prefix):
            seen.append(torch.get_num_threads())
    return hook


def embedded_reber(text):
    """Whether ``text`` is in the published embedded Reber grammar: B, T or P, a Reber string, the same, E."""
    diagram = {0: {"B": 1}, 1: {"T": 2, "P": 3}, 2: {"S": 2, "X": 4}, 3: {"T": 3, "V": 5}, 4: {"X": 3, "S": 6},
               5: {"P": 4, "V": 6}, 6: {"E": 7}}
    if len(text) < 9 or text[0] != "B" or text[1] not in "TP" or text[-2] != text[1] or text[-1] != "E":
        return False
    node = 0
    for symbol in text[2:-2]:
        node = diagram.get(node, {}).get(symbol)
        if node is None:
            return False
    return node == 7


def test_embedded_reber_through_train_plot_and_fsm(tmp_path):
    """--embed trains on the embedded grammar (files reber_embed_<model><hid>), and seq_plot.py and seq_fsm.py
    find that network by --lang reber --embed --hid; seq_train.py's --out-path, --plot-dir and --threads."""
    before = torch.get_num_threads()
    seen = []
    status, out, err = run_command(seq_train.main, [
        "--lang", "reber", "--embed", "--hid", "2", "--epoch", "1", "--batch", "100", "--candidates", "1",
        "--threads", "2", "--out-path", str(tmp_path / "net"), "--plot-dir", str(tmp_path / "plots")],
        threads_at("epoch: 1", seen))
    assert status == 0, err
    assert seen == [2] and torch.get_num_threads() == before
    assert sorted(os.listdir(tmp_path / "net")) == ["reber_embed_srn2.json", "reber_embed_srn2_1.pth"]
    assert os.listdir(tmp_path / "plots") == ["reber_embed_srn2_loss.jpg"]
    saved = torch.load(tmp_path / "net" / "reber_embed_srn2_1.pth", weights_only=True)
    assert saved["config"]["embed"] is True and saved["config"]["num_hid"] == 2
    shown = re.findall(r"^symbol= (\w+)$", out, re.M)
    assert shown and all(embedded_reber(text) for text in shown), shown
    where = ["--lang", "reber", "--embed", "--hid", "2", "--out_path", str(tmp_path / "net")]
    status, out, err = run_command(seq_plot.main, [*where, "--num_plot", "2", "--plot_path", str(tmp_path / "p")])
    assert status == 0 and f"loaded {tmp_path / 'net' / 'reber_embed_srn2_1.pth'}" in out, err
    assert all(embedded_reber(text) for text in re.findall(r"^symbol= (\w+)$", out, re.M))
    status, out, err = run_command(seq_fsm.main, [*where, "--states", "3", "--sequences", "20", "--validate", "20",
                                                  "--plot_path", str(tmp_path / "f")])
    assert status == 0 and f"loaded {tmp_path / 'net' / 'reber_embed_srn2_1.pth'}" in out, err
    assert "agreement with the grammar's states" in out


def two_unit_network(path, seen=1000):
    """An untrained SRN with 2 hidden units for a^n b^n, n = 1, as seq_train.py saves it."""
    config = dict(lang="anbn", embed=False, length=1, model="srn", num_input=2, num_hid=2, num_out=2)
    torch.manual_seed(0)
    save_checkpoint(path, build_model(config), config, seen=seen)


def strings(text):
    """The n of every string in the printed sequences."""
    return [len(a) for line in re.findall(r"^symbol= (\w+)$", text, re.M) for a in re.findall(r"A+", line)]


def test_seq_plot_length_seed_and_checkpoint(tmp_path):
    """--checkpoint loads that file; the sequences follow its training length (n = 1), or --length (n up to 2);
    --seed draws other sequences."""
    two_unit_network(tmp_path / "net.pth")
    runs = {}
    for name, flags in (("own", []), ("two", ["--length", "2"]), ("seed", ["--length", "2", "--seed", "3"])):
        status, out, err = run_command(seq_plot.main, ["--checkpoint", str(tmp_path / "net.pth"), "--num_plot", "6",
                                                       "--plot_path", str(tmp_path / name), *flags])
        assert status == 0 and f"loaded {tmp_path / 'net.pth'}" in out, err
        runs[name] = re.findall(r"^symbol= (\w+)$", out, re.M)
    assert runs["own"] == ["ABABABABAB"] * 6
    assert set(strings("\n".join(f"symbol= {s}" for s in runs["two"]))) == {1, 2}
    assert runs["seed"] != runs["two"]


def test_seq_fsm_length_seed_max_states_and_threads(tmp_path):
    """--length sets the validation range, --seed the fresh sequences, --max_states the most states tried (the
    best kept when none meets the criterion), --threads torch's threads while it runs."""
    two_unit_network(tmp_path / "net.pth")
    results = {}
    for name, flags in (("base", ["--length", "2"]), ("seed", ["--length", "2", "--seed", "1"]),
                        ("few", ["--max_states", "3", "--tv", "0.000001", "--threads", "2"])):
        seen = []
        status, out, err = run_command(seq_fsm.main, ["--checkpoint", str(tmp_path / "net.pth"), "--sequences", "30",
                                                      "--validate", "30", "--plot_path", str(tmp_path / name),
                                                      *flags], threads_at("number of states", seen))
        assert status == 0, err
        results[name] = (json.loads((tmp_path / name / "anbn_srn2_fsm.json").read_text())["results"], out, seen)
    base, seed, few = (results[k][0] for k in ("base", "seed", "few"))
    assert base["validation"][0]["set"] == "within (n 1..2)" and few["validation"][0]["set"] == "within (n 1..1)"
    assert base["validation"][0]["deterministic"] != seed["validation"][0]["deterministic"]
    assert [row["states"] for row in few["sweep"]] == [2, 3] and not few["criterion_met"]
    assert "no machine with up to 3 states met the criterion" in results["few"][1]
    assert results["few"][2][0] == 2 and results["base"][2][0] == 1
    assert np.isfinite(few["sweep"][-1]["mean_tv"])


def two_attractor_network(path):
    """An SRN for a^n b^2n whose maps have attractors that the visited states reach from several sides."""
    config = dict(lang="anb2n", embed=False, length=4, model="srn", num_input=2, num_hid=2, num_out=2)
    net = build_model(config)
    weights = {k: torch.zeros_like(v) for k, v in net.state_dict().items()}
    weights.update({"rnn.weight_hh_l0": torch.tensor([[1.2, 0.6], [-0.6, 1.2]]), "H0": torch.tensor([0.5, -0.5]),
                    "rnn.weight_ih_l0": torch.tensor([[0.8, -0.5], [-0.4, 0.9]])})
    net.load_state_dict(weights)
    save_checkpoint(path, net, config, seen=5000)


def test_seq_explain_seed_changes_where_the_search_starts(tmp_path):
    """--seed picks which visited states start the fixed-point search, so it changes how many of them reach each
    point (test_explain.py shows the other flags); --out-path and --plot-dir are the folders' other names."""
    net = tmp_path / "net"
    net.mkdir()
    two_attractor_network(net / "anb2n_srn2_5.pth")
    counts = {}
    for seed, flags in (("3", ["--out-path", str(net), "--plot-dir", str(tmp_path / "a")]),
                        ("0", ["--checkpoint", str(net / "anb2n_srn2_5.pth"), "--plot_path", str(tmp_path / "b")])):
        status, out, err = run_command(seq_explain.main, [*flags, "--seed", seed])
        assert status == 0 and f"loaded {net / 'anb2n_srn2_5.pth'}" in out, err
        counts[seed] = re.findall(r"^  [AB]: \(.*\)  \S+  \w.*?  (\d+)$", out, re.M)
    assert (tmp_path / "a" / "anb2n_srn2_explain.json").exists() and counts["3"] and counts["3"] != counts["0"]
