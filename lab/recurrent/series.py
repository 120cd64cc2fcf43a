"""Part 3 checkpoints: their names, finding them, and loading them for analysis.

A run of seq_train.py writes ``<out_path>/<lang>_<model><hid>_<k>.pth``, k
in thousands of sequences. seq_plot.py, seq_fsm.py and seq_explain.py pick
one with the same flags (those of settings.CheckpointChoice) and
load it with ``resolve_checkpoint``; every problem is a UserError that lists
the checkpoints there are.
"""
import glob
import os
import re

from lab.common.checkpoints import CheckpointError, check_same_settings, load_checkpoint as load_lab_checkpoint, state_of
from lab.recurrent.languages import lang_tag, make_language
from lab.recurrent.settings import TrainSettings, check_checkpoint
from lab.common.errors import UserError
from lab.common.options import same_on_resume
from seq_models import load_checkpoint


def series_name(tag, model, hid):
    """``<tag>_<model><hid>``, e.g. anb2n_srn2: the name of a run's checkpoints, record, lock and images."""
    return f"{tag}_{model}{hid}"


def checkpoint_path(out_path, tag, model, hid, k):
    """``<out_path>/<tag>_<model><hid>_<k>.pth``, k in thousands of sequences."""
    return os.path.join(out_path, f"{series_name(tag, model, hid)}_{k}.pth")


RESUME_SETTINGS = same_on_resume(TrainSettings)  # what must be the same for --resume to go on with a run


def resume_state(settings, model, optimizer, rng, progress):
    """Everything a run needs to go on exactly where it was: weights, optimiser, generator, progress."""
    return {"settings": {key: settings[key] for key in RESUME_SETTINGS},
            "model": state_of(model),
            "optimizer": optimizer.state_dict(), "rng": rng.bit_generator.state, "progress": progress.plain()}


def read_checkpoint(path):
    """Load a Part 3 checkpoint safely and check all of it, without building its network; returns the dict."""
    return load_lab_checkpoint(path, "seq", check_checkpoint)


def load_resume_state(out_path, tag, model, hid, settings):
    """The saved state in the latest checkpoint of the run ``settings`` describe; a UserError when there is
    none or it is another run's. Returns (checkpoint path, state)."""
    path = find_checkpoint(out_path, tag, model, hid)
    saved = read_checkpoint(path).get("resume")
    if not isinstance(saved, dict):
        raise UserError(f"--resume: {path} holds no state to go on from (it was not the last checkpoint of a run)")
    check_same_settings(path, saved["settings"], settings, RESUME_SETTINGS)
    return path, saved


def list_checkpoints(out_path):
    """The checkpoint files in a folder, sorted by name and then by k."""
    def key(path):
        m = re.match(r"(.*)_(\d+)\.pth$", os.path.basename(path))
        return (m.group(1), int(m.group(2))) if m else (os.path.basename(path), -1)
    return sorted(glob.glob(os.path.join(glob.escape(out_path), "*.pth")), key=key)


def existing(out_path):
    """A sentence listing the checkpoints that exist, for error messages."""
    found = [os.path.basename(p) for p in list_checkpoints(out_path)]
    if not found:
        return f"there are no checkpoints in {out_path}/ (train one with seq_train.py)"
    return f"checkpoints in {out_path}/: " + ", ".join(found)


def find_checkpoint(out_path, tag, model, hid, epoch=None):
    """The path of checkpoint k=epoch, or of the latest one for this language, model and size."""
    if epoch is not None:
        path = checkpoint_path(out_path, tag, model, hid, epoch)
        if not os.path.isfile(path):
            raise UserError(f"no checkpoint {path}; {existing(out_path)}")
        return path
    pattern = re.compile(rf"{re.escape(series_name(tag, model, hid))}_(\d+)\.pth$")
    matches = [(int(m.group(1)), p) for p in list_checkpoints(out_path)
               if (m := pattern.match(os.path.basename(p)))]
    if not matches:
        raise UserError(f"no checkpoint {checkpoint_path(out_path, tag, model, hid, '<k>')}; {existing(out_path)}")
    return max(matches)[1]


def load_model(path, out_path=None):
    """Load a checkpoint for analysis; any problem becomes a UserError naming the checkpoints there are."""
    where = out_path or os.path.dirname(path) or "."
    try:
        return load_checkpoint(path, check_checkpoint)
    except CheckpointError as err:
        raise UserError(f"{err}; {existing(where)}") from None


def resolve_checkpoint(choice):
    """Find and load the checkpoint ``choice`` (a settings.CheckpointChoice) names: its ``checkpoint`` file, or the
    one for its lang, embed, model, hid and epoch in its out_path.

    A checkpoint found by name must hold what its name says. Returns (model,
    checkpoint dict, path); problems are UserErrors naming the checkpoints
    there are.
    """
    if choice.checkpoint:
        model, ckpt = load_model(choice.checkpoint)
        return model, ckpt, choice.checkpoint
    hid = choice.series_hid
    path = find_checkpoint(choice.out_path, choice.tag, choice.model, hid, choice.epoch)
    model, ckpt = load_model(path, choice.out_path)
    config = ckpt["config"]
    found = (config["lang"], config["embed"], config["model"], config["num_hid"])
    if found != (choice.lang, choice.embed, choice.model, hid):
        raise UserError(f"{path} holds a {found[2]} with {found[3]} hidden units for "
                        f"{lang_tag(found[0], found[1])}, not what its name says; {existing(choice.out_path)}")
    return model, ckpt, path


def language_for(config, length, path):
    """The checkpoint's language (with --length if given), checked against the network's inputs."""
    length = config["length"] if length is None else length
    try:
        lang = make_language(config["lang"], config["embed"], length)
    except UserError as err:
        raise UserError(f"{path}: {err}") from None
    if lang.num_symbols != config["num_input"]:
        raise UserError(f"{path} expects {config['num_input']} symbols, {config['lang']} has {lang.num_symbols}")
    return lang
