"""Part 1's settings: everything kuzu_main.py's flags resolve to, in one checked, unchangeable object.

Its fields are the flags' names, so the command builds it with
``Settings(**vars(args))``. ``Settings(net="conv")`` fills what is left at
None with that net's own defaults (kuzu.NET_DEFAULTS: lr, mom, shift,
schedule, nesterov, ema, smoothing, tta, erase, wd; the data
folder of kmnist.data_root) and checks the values that only make sense
together, once; a bad combination is a UserError of one sentence. ``as_config()`` is the plain dict that the run
record and the checkpoint's ``args`` hold (the flags' names, as before), and
``model_config()`` the dict that rebuilds the network (kuzu.build_model).
"""
from dataclasses import asdict, dataclass

from kuzu import NET_DEFAULTS, NETS, model_settings
from lab.characters import kmnist
from lab.common.errors import UserError

MAX_SHIFT = 4  # pixels; a larger shift moves most of a 28x28 character out of the picture


@dataclass(frozen=True)
class Settings:
    """One Part 1 run: the network, its training, the data, the device and the outputs."""

    net: str = "full"
    lr: float | None = None  # None here and below: the net's own default
    mom: float | None = None
    epochs: int = 10
    no_cuda: bool = False
    hid: int = 500
    conv1: int = 16
    conv2: int = 32
    fc: int = 256
    dropout: float = 0.2
    shift: int | None = None
    schedule: str | None = None
    nesterov: bool | None = None
    ema: float | None = None
    smoothing: float | None = None
    tta: int | None = None
    erase: int | None = None
    wd: float | None = None
    batch_size: int = 64
    seed: int = 1
    threads: int | None = None  # None: chosen while training (lab.common.threads)
    data: str | None = None  # None: $KMNIST_DATA, else ./data
    no_download: bool = False
    compile: str = "auto"
    device: str = "auto"
    save: str | None = None
    resume: bool = False
    plot_dir: str = "plot"
    dry_run: bool = False

    def __post_init__(self):
        if self.net not in NETS:
            raise UserError(f"unknown net {self.net!r}; choose from {', '.join(NETS)}")
        for name, value in NET_DEFAULTS[self.net].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        object.__setattr__(self, "data", kmnist.data_root(self.data))
        self.check()

    def check(self):
        """The values that only make sense together; a UserError naming the flags otherwise."""
        if self.mom >= 1 or self.dropout >= 1 or self.shift > MAX_SHIFT:
            raise UserError(f"need --mom and --dropout below 1 and --shift at most {MAX_SHIFT}")
        if self.ema >= 1 or self.smoothing >= 1 or self.erase > 28:
            raise UserError("need --ema and --smoothing below 1 and --erase at most 28 (the picture's side)")
        if self.nesterov and self.mom <= 0:
            raise UserError("--nesterov needs a momentum above 0 (--mom); or give --no-nesterov")
        if self.resume and not self.save:
            raise UserError("--resume goes on from the checkpoint named by --save PATH")

    def as_config(self):
        """The settings as a plain dict, under the flags' names: the run record's and the checkpoint's."""
        return asdict(self)

    def model_config(self):
        """The dict that rebuilds the network: its name and the sizes it uses (kuzu.build_model)."""
        return model_settings(self.net, self.hid, self.conv1, self.conv2, self.fc, self.dropout)

    @property
    def run_name(self):
        """The name of the run's files: kuzu_<net>, or kuzu_<net>_dry-run for --dry-run."""
        return f"kuzu_{self.net}" + ("_dry-run" if self.dry_run else "")
