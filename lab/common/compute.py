"""Where and how torch computes: seeding every generator, the CPU thread count, the device.
"""
import contextlib
import random

from lab.common.errors import UserError


def seed_everything(seed):
    """Seed Python's, numpy's and torch's generators, so a command repeats its numbers on the CPU."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)



@contextlib.contextmanager
def torch_threads(count):
    """Run the block with ``count`` torch CPU threads (None: as many as now, the block may change them),
    then restore the count there was."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count or before)
    try:
        yield
    finally:
        torch.set_num_threads(before)



def pick_device(name="auto", no_cuda=False):
    """Return the torch.device for ``name`` in {auto, cpu, cuda, mps}.

    ``auto`` takes CUDA, then Apple's MPS, then the CPU; ``no_cuda`` (the
    course's flag) rules CUDA out. Asking for a device that is not there is a
    UserError.
    """
    import torch

    cuda_ok = torch.cuda.is_available() and not no_cuda
    mps_ok = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if cuda_ok else "mps" if mps_ok else "cpu"
    elif name == "cuda" and not cuda_ok:
        why = "--no_cuda was given" if no_cuda else "torch sees no CUDA device here"
        raise UserError(f"--device cuda asked for, but {why}; use --device cpu or auto")
    elif name == "mps" and not mps_ok:
        raise UserError("--device mps asked for, but this torch has no MPS device; use --device cpu or auto")
    return torch.device(name)
