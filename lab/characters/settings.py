"""Part 1's settings: every flag of kuzu_main.py, declared once, and the checked, unchangeable object they give.

Each field is a flag (lab.common.options.flag); those of the network (--net
and its sizes) are kuzu.NET_FLAGS. ``Settings(net="conv")`` fills what is
left at None with that net's own defaults (kuzu.NET_DEFAULTS; the data
folder of kmnist.data_root) and checks the combinations once, a UserError of
one sentence otherwise. ``as_config()`` is the plain dict that the run
record and the checkpoint's ``args`` hold, ``model_config()`` the dict that
rebuilds the network (kuzu.build_model).
"""
from dataclasses import dataclass

from kuzu import NET_DEFAULTS, NET_FLAGS, model_settings
from lab.characters import kmnist
from lab.characters.training import SCHEDULES, VIEW_MOVES
from lab.common.errors import UserError
from lab.common.options import SEED_MAX, Settings as Flags, flag

MAX_SHIFT = 4  # pixels; a larger shift moves most of a 28x28 character out of the picture


@dataclass(frozen=True)
class Settings(Flags):
    """One Part 1 run: the network, its training, the data, the device and the outputs."""

    net: str = NET_FLAGS["net"].field()
    # None here and below: the net's own default
    lr: float | None = flag("--lr", kind=float, above=0, resume=True,
                            help="learning rate, the peak of onecycle (default 0.01; full 0.02, conv 0.08)")
    mom: float | None = flag("--mom", kind=float, low=0, below=1, resume=True,
                             help="momentum (default 0.5; full and conv 0.9)")
    epochs: int = flag("--epochs", 10, above=0, resume=True, help="number of training epochs (default %(default)s)")
    no_cuda: bool = flag("--no_cuda", False, help="never use CUDA")
    hid: int = NET_FLAGS["hid"].field()
    conv1: int = NET_FLAGS["conv1"].field()
    conv2: int = NET_FLAGS["conv2"].field()
    fc: int = NET_FLAGS["fc"].field()
    dropout: float = NET_FLAGS["dropout"].field()
    shift: int | None = flag("--shift", kind=int, low=0, high=MAX_SHIFT, resume=True,
                             help="random shift of training images by up to this many pixels (default 0; conv 2)")
    schedule: str | None = flag("--schedule", choices=SCHEDULES, resume=True,
                                help="learning rate over the run, stepped per batch: one cycle peaking at --lr, cosine "
                                     "decay to 0, or constant (default cosine; conv onecycle)")
    nesterov: bool | None = flag("--nesterov", kind=bool, resume=True,
                                 help="Nesterov momentum (default: on for conv, off for lin and full)")
    wd: float | None = flag("--wd", kind=float, low=0, resume=True,
                            help="weight decay: SGD adds this times each weight to its gradient (default 0)")
    ema: float | None = flag("--ema", kind=float, low=0, below=1, resume=True,
                             help="test (and save) an exponential moving average of the weights with this decay per "
                                  "step, e.g. 0.999; 0 is off (default 0)")
    smoothing: float | None = flag("--smoothing", kind=float, low=0, below=1, resume=True,
                                   help="label smoothing: the training target gives this much of its weight evenly to "
                                        "all classes (default 0; conv 0.1)")
    tta: int | None = flag("--tta", kind=int, choices=tuple(sorted(VIEW_MOVES)),
                           help="final test: average each image's prediction over this many views, itself and its "
                                "one-pixel moves (default 1: the image alone; conv 5)")
    erase: int | None = flag("--erase", kind=int, low=0, high=28, resume=True,  # 28: the picture's side
                             help="cutout: black out a square of this side around a random pixel of each training "
                                  "image (default 0: none)")
    batch_size: int = flag("--batch-size", 64, low=1, high=60_000, resume=True,
                           help="training batch size (default %(default)s)")
    seed: int = flag("--seed", 1, low=0, high=SEED_MAX, resume=True,
                     help="random seed, 0 to 2**32-1 (default %(default)s)")
    threads: int | None = flag("--threads", kind=int, above=0,  # None: chosen while training (lab.common.threads)
                               help="torch CPU threads (default: chosen while training, by timing steps at 1, 2, ... "
                                    "threads up to every core, and chosen again when the machine's load changes)")
    data: str | None = flag("--data",  # None: $KMNIST_DATA, else ./data
                            help="data directory holding KMNIST/raw/ (default $KMNIST_DATA, else ./data)")
    no_download: bool = flag("--no-download", False, help="never try to download missing data")
    compile: str = flag("--compile", "auto", choices=("auto", "on", "off"),
                        help="run the model through torch.compile(mode='reduce-overhead') (CUDA graphs): auto does "
                             "so on CUDA only; it falls back to plain execution where compiling fails (default auto)")
    device: str = flag("--device", "auto", choices=("auto", "cpu", "cuda", "mps"),
                       help="where to train (default auto: cuda, then mps, then cpu)")
    save: str | None = flag("--save", metavar="PATH", help="save a checkpoint (weights and settings) here after every "
                                                           "epoch")
    resume: bool = flag("--resume", False, help="go on from the checkpoint in --save (same flags), after its last "
                                                "epoch, as if never stopped")
    plot_dir: str = flag(("--plot-dir", "--plot_path"), "plot",
                         help="folder for the plots and the run record (default %(default)s)")
    dry_run: bool = flag("--dry-run", False, help="one epoch of a single batch, to check the setup (files named "
                                                  "kuzu_<net>_dry-run_*)")

    def __post_init__(self):
        self.check_flags()
        for name, value in NET_DEFAULTS[self.net].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        object.__setattr__(self, "data", kmnist.data_root(self.data))
        self.check()

    def check(self):
        """The values that only make sense together; a UserError naming the flags otherwise."""
        if self.nesterov and self.mom <= 0:
            raise UserError("--nesterov needs a momentum above 0 (--mom); or give --no-nesterov")
        if self.resume and not self.save:
            raise UserError("--resume goes on from the checkpoint named by --save PATH")

    def model_config(self):
        """The dict that rebuilds the network: its name and the sizes it uses (kuzu.build_model)."""
        return model_settings(**self.as_config())

    @property
    def run_name(self):
        """The name of the run's files: kuzu_<net>, or kuzu_<net>_dry-run for --dry-run."""
        return f"kuzu_{self.net}" + ("_dry-run" if self.dry_run else "")
