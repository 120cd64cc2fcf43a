"""The lab's one checkpoint format, for Part 1 and Part 3 alike.

A checkpoint is a dict of plain types and tensors, so that it loads with
``torch.load(weights_only=True)`` (nothing in it can run code):

    {"format": FORMAT, "kind": "kuzu" or "seq",
     "config": {the settings that rebuild the model},
     "state_dict": {name: tensor}, ... anything else plain (epoch, seen, loss)}

``save_checkpoint`` writes one atomically and refuses weights that are not
finite; ``load_checkpoint`` reads one back and checks all of it, naming the
file and the field at fault: its settings with the part's flags
(lab.common.options), the rest against its format (lab.common.schema: types,
finite weights, the resume state).
"""
from lab.common.errors import CheckpointError, UserError, first_line
from lab.common.files import atomic_torch_save
from lab.common.schema import check_checkpoint

FORMAT = "nn-lab checkpoint 1"


def state_of(model):
    """The model's weights as CPU tensors, detached and copied (safe to keep while training goes on)."""
    return {name: value.detach().cpu().clone() for name, value in model.state_dict().items()}


def all_finite(state):
    """Whether every floating-point tensor of a state dict is free of NaN and infinity."""
    import torch

    return all(bool(torch.isfinite(v).all()) for v in state.values() if torch.is_floating_point(v))


def save_checkpoint(path, kind, config, state, **extra):
    """Write ``state`` (a state dict, or a model) with the ``config`` that rebuilds it, atomically.

    Weights that hold NaN or infinity are refused (a CheckpointError), so a
    diverged run never replaces a good checkpoint.
    """
    if hasattr(state, "state_dict"):
        state = state_of(state)
    if not all_finite(state):
        raise CheckpointError(f"not writing {path}: the weights are not finite (the training diverged)")
    atomic_torch_save({"format": FORMAT, "kind": kind, "config": dict(config), "state_dict": state, **extra}, path)


def load_checkpoint(path, kind, check_settings):
    """Load a checkpoint of ``kind`` safely and check it, its settings with ``check_settings(path, checkpoint)`` (the
    part's own, made from its flags) first; returns the dict.

    Accepts the lab's earlier layouts too (settings under "config", or for
    Part 1 under "model"). Every problem is a CheckpointError that names the
    file and what is wrong.
    """
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path} is a folder, not a checkpoint") from None
    except Exception as err:  # unpickling refuses anything but plain data and tensors
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(err).__name__}: "
                              f"{first_line(err)})") from None
    if isinstance(ckpt, dict) and "config" not in ckpt and isinstance(ckpt.get("model"), dict):
        ckpt = dict(ckpt, config=ckpt["model"], kind="kuzu")  # Part 1's earlier layout
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("config"), dict) or not isinstance(
            ckpt.get("state_dict"), dict):
        raise CheckpointError(f"{path} is not a checkpoint of this lab (no config and state_dict)")
    found = ckpt.get("kind", kind)
    if found != kind:
        raise CheckpointError(f"{path} is a {found} checkpoint, not a {kind} one")
    check_settings(path, ckpt)
    return check_checkpoint(path, ckpt, kind)


def check_same_settings(path, saved, now, keys):
    """--resume: a UserError naming every setting in ``keys`` where ``saved`` (the run in ``path``) and ``now`` differ."""
    differ = [f"{key} {saved.get(key)!r} (now {now[key]!r})" for key in keys if saved.get(key) != now[key]]
    if differ:
        raise UserError(f"--resume: {path} is from a run with other settings: " + ", ".join(differ))


def load_weights(path, model, state):
    """Load ``state`` into ``model``; weights that do not fit become a CheckpointError saying how."""
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
        raise CheckpointError(f"{path}: the weights do not fit the model its config describes: "
                              f"{lines[-1] if lines else err}") from None
    return model


def load_optimizer(path, optimizer, state):
    """Load a saved optimiser state (from --resume's ``path``) into ``optimizer``; returns it.

    A state that does not fit the optimiser's parameters (another number of
    groups or parameters, buffers of another shape) is a CheckpointError
    naming the file, not an error in the middle of training.
    """
    try:
        optimizer.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{path}: the optimiser state does not fit the network ({type(err).__name__}: "
                              f"{first_line(err)})") from None
    for group in optimizer.param_groups:
        for param in group["params"]:
            for name, value in optimizer.state.get(param, {}).items():
                if hasattr(value, "shape") and value.dim() and value.shape != param.shape:
                    raise CheckpointError(f"{path}: the optimiser's {name} has shape {tuple(value.shape)} where "
                                          f"its parameter has {tuple(param.shape)}")
    return optimizer
