"""Part 2's settings: every flag of check_main.py, declared once, and the checked, unchangeable object they give.

Each field is a flag (lab.common.options.flag); ``as_config()`` is the plain
dict the run record holds; lab/check/training.py's train reads the training
ones (epoch, lr, init, restarts, patience).
"""
import os
from dataclasses import dataclass

from lab.check.training import REPORT_EVERY
from lab.common.errors import UserError
from lab.common.options import SEED_MAX, Settings as Flags, flag

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = os.path.join(ROOT, "data", "check.csv")  # the course's nine points


@dataclass(frozen=True)
class Settings(Flags):
    """One Part 2 run: the network, its weights (hand-set or trained), the training and the outputs."""

    hid: int = flag("--hid", 4, low=1, high=1000, help="number of hidden units (default %(default)s)")
    act: str = flag("--act", "sig", choices=("sig", "step"),
                    help="unit activation: sigmoid or Heaviside step (default %(default)s)")
    init: float = flag("--init", 0.15, above=0, help="standard deviation of the normal initial weights (default "
                                                     "%(default)s)")
    set_weights: bool = flag("--set_weights", False,
                             help="start from the hand-designed weights in check.py (scaled up for --act sig)")
    lr: float = flag("--lr", 0.001, above=0, help="Adam learning rate (default %(default)s)")
    epoch: int = flag("--epoch", 200000, low=1, help="the most training epochs, restarts included (default "
                                                     "%(default)s)")
    seed: int = flag("--seed", 0, low=0, high=SEED_MAX, help="random seed, 0 to 2**32-1 (default %(default)s)")
    restarts: int = flag("--restarts", 5, low=0, help="how many times a stuck run may start again from new random "
                                                      "weights (default %(default)s)")
    patience: int = flag("--patience", 20000, low=REPORT_EVERY,  # the loss is looked at once a report
                         help="epochs without the loss dropping by 1e-4 that count as stuck (default %(default)s)")
    plot_dir: str = flag(("--plot-dir", "--plot_path"), "plot",
                         help="folder for the plots and the run record (default %(default)s)")
    data: str = flag("--data", DEFAULT_DATA, help="the check data, a CSV file (default data/check.csv)")

    def __post_init__(self):
        self.check_flags()
        if self.act == "step" and not self.set_weights:
            raise UserError("--act step cannot be trained (the step function has no gradient); "
                            "add --set_weights, or use --act sig")

    @property
    def run_name(self):
        """The name of the run's record: check_<act>_<hid>, with _set for the hand-set weights."""
        return f"check_{self.act}_{self.hid}" + ("_set" if self.set_weights else "")
