"""Part 2's settings: everything check_main.py's flags resolve to, in one checked, unchangeable object.

Its fields are the flags' names, so the command builds it with
``Settings(**vars(args))``; ``as_config()`` is the plain dict the run
record holds; lab/check/training.py's train reads the training ones
(epoch, lr, init, restarts, patience).
"""
import os
from dataclasses import asdict, dataclass

from lab.common.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = os.path.join(ROOT, "data", "check.csv")  # the course's nine points


@dataclass(frozen=True)
class Settings:
    """One Part 2 run: the network, its weights (hand-set or trained), the training and the outputs."""

    hid: int = 4
    act: str = "sig"
    init: float = 0.15
    set_weights: bool = False
    lr: float = 0.001
    epoch: int = 200000
    seed: int = 0
    restarts: int = 5
    patience: int = 20000
    plot_dir: str = "plot"
    data: str = DEFAULT_DATA

    def __post_init__(self):
        if self.act not in ("sig", "step"):
            raise UserError(f"unknown activation {self.act!r}; choose sig or step")
        if self.act == "step" and not self.set_weights:
            raise UserError("--act step cannot be trained (the step function has no gradient); "
                            "add --set_weights, or use --act sig")

    def as_config(self):
        """The settings as a plain dict, under the flags' names: the run record's."""
        return asdict(self)

    @property
    def run_name(self):
        """The name of the run's record: check_<act>_<hid>, with _set for the hand-set weights."""
        return f"check_{self.act}_{self.hid}" + ("_set" if self.set_weights else "")
