"""Part 3's settings: seq_train.py's training run, and what the commands that analyse its checkpoints do.

``TrainSettings`` fills what the flags leave at None from DEFAULTS (per
language and model) and checks the values that only make sense together,
once; ``CheckpointChoice`` names the checkpoint to analyse, and
``PlotSettings``, ``MachineSettings`` and ``ExplainSettings`` add what
seq_plot.py, seq_fsm.py and seq_explain.py do with it. Each takes the
parsed flags by their names (``TrainSettings(**vars(args))``) and is
unchangeable; a bad combination is a UserError of one sentence. ``as_config()`` is the plain dict the run
record holds, under the flags' names (and the keys a checkpoint's resume
state compares).
"""
from dataclasses import asdict, dataclass

from lab.common.errors import UserError
from lab.recurrent.languages import LANGS, check_embed, lang_tag, make_language

MODELS = ("srn", "lstm")
# Per language and model, chosen by measurement (docs/results.md).
# batch: sequences per update (1 = the course's online training).
DEFAULTS = {
    ("anbn", "srn"): dict(hid=2, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("anb2n", "srn"): dict(hid=2, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("anbncn", "srn"): dict(hid=4, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("anb2nc3n", "srn"): dict(hid=4, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("reber", "srn"): dict(hid=4, epoch=50, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("reber_embed", "srn"): dict(hid=8, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("anbn", "lstm"): dict(hid=2, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("anb2n", "lstm"): dict(hid=2, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("anbncn", "lstm"): dict(hid=3, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("anb2nc3n", "lstm"): dict(hid=3, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("reber", "lstm"): dict(hid=4, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("reber_embed", "lstm"): dict(hid=8, epoch=100, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
}


def defaults_for(lang, model, embed=False):
    """The default settings for a language and model (hid, epoch, optim, lr, mom, init, batch, candidates)."""
    if lang not in LANGS or model not in MODELS:
        raise UserError(f"no network {model!r} for a language {lang!r}; choose from {', '.join(LANGS)} "
                        f"and {' or '.join(MODELS)}")
    return dict(DEFAULTS[(lang_tag(lang, embed), model)], mom=0.0)


class SettingsBase:
    """What every settings class here shares: the plain dict, the language's tag."""

    def as_config(self):
        """The settings as a plain dict, under the flags' names: the run record's settings, and what a
        checkpoint's resume state keeps of them (series.RESUME_SETTINGS)."""
        return asdict(self)

    @property
    def tag(self):
        """The language's name in file names: reber_embed for the embedded grammar."""
        return lang_tag(self.lang, self.embed)


@dataclass(frozen=True)
class TrainSettings(SettingsBase):
    """One seq_train.py run: the language, the network, its training and where it goes."""

    lang: str = "anb2n"
    embed: bool = False
    length: int | None = None  # None: the language's own (largest n 4; Reber's minimum length 5)
    model: str = "srn"
    hid: int | None = None  # None here and below: DEFAULTS for the language and model
    optim: str | None = None
    lr: float | None = None
    mom: float | None = None
    init: float | None = None  # the SRN's only; None for an LSTM
    epoch: int | None = None
    batch: int | None = None
    candidates: int | None = None
    select: int | None = None  # None: half of epoch
    until: float | None = None  # None: train for all of epoch
    out_path: str = "net"
    plot_path: str = "plot"
    seed: int = 0
    resume: bool = False
    threads: int = 1

    def __post_init__(self):
        defaults = defaults_for(self.lang, self.model, self.embed)
        check_embed(self.lang, self.embed)
        if self.init is not None and self.model == "lstm":
            raise UserError("--init applies to --model srn only (the LSTM keeps torch's initialisation)")
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.select is None:
            object.__setattr__(self, "select", max(1, self.epoch // 2))
        self.check()

    def check(self):
        """The values that only make sense together; a UserError naming the flags otherwise."""
        if self.optim == "adam" and self.mom != 0:
            raise UserError("--mom applies to --optim sgd only")
        if not self.mom < 1:
            raise UserError(f"--mom must be below 1, got {self.mom}")
        if self.candidates > 1 and self.select > self.epoch:
            raise UserError(f"--select ({self.select}) must not exceed --epoch ({self.epoch})")

    def language(self):
        """The language to learn (its own checks of --length apply)."""
        return make_language(self.lang, self.embed, self.length)

    def model_config(self, lang):
        """What a checkpoint's config holds: the settings that rebuild the network (seq_models.build_model),
        the language with its resolved length, and how it was trained."""
        return dict(lang=self.lang, embed=self.embed, length=lang.length, model=self.model,
                    num_input=lang.num_symbols, num_hid=self.hid, num_out=lang.num_symbols, optim=self.optim,
                    lr=self.lr, mom=self.mom, init=self.init, batch=self.batch, candidates=self.candidates,
                    select=self.select, seed=self.seed)


@dataclass(frozen=True)
class CheckpointChoice(SettingsBase):
    """The checkpoint seq_plot.py or seq_fsm.py analyses: a file, or one of a run's series, and the output folder."""

    lang: str = "anb2n"
    embed: bool = False
    model: str = "srn"
    hid: int | None = None  # None: seq_train.py's default for the language and model
    epoch: int | None = None  # None: the latest checkpoint there is
    checkpoint: str | None = None  # a file, whose own settings apply
    out_path: str = "net"
    plot_path: str = "plot"
    length: int | None = None  # None: the checkpoint's training length

    def __post_init__(self):
        check_embed(self.lang, self.embed)

    @property
    def series_hid(self):
        """The hidden size in the checkpoints' names: --hid, else seq_train.py's default."""
        return self.hid or defaults_for(self.lang, self.model, self.embed)["hid"]


@dataclass(frozen=True)
class PlotSettings(CheckpointChoice):
    """One seq_plot.py run: the checkpoint, and the fresh sequences printed and plotted."""

    num_plot: int = 10
    context: bool = False
    show: bool = False
    seed: int = 0


@dataclass(frozen=True)
class MachineSettings(CheckpointChoice):
    """One seq_fsm.py run: the checkpoint, and how its finite-state machine is extracted, shown and validated."""

    sequences: int = 1000  # fresh sequences whose states are clustered
    validate: int = 1000  # fresh sequences per validation set
    states: int | None = None  # None: the fewest that meet the criterion, up to max_states
    max_states: int = 64
    tv: float = 0.1  # the criterion: largest mean total-variation distance from the network's predictions
    raw: bool = False
    seed: int = 0
    threads: int = 1


# seq_explain.py reads one string of every n up to twice --length and its record keeps every state of them, so the
# record grows with the square of --length (a^n b^2n c^3n, 3 LSTM units: 1.2 MB at 20, 4.6 MB at 40; past 50 MB at 300).
EXPLAIN_MAX_LENGTH = 40


@dataclass(frozen=True)
class ExplainSettings(CheckpointChoice):
    """One seq_explain.py run: the checkpoint, and the seed of the fixed-point search's starting points."""

    seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.length is not None and self.length > EXPLAIN_MAX_LENGTH:
            raise UserError(f"--length must be at most {EXPLAIN_MAX_LENGTH} for seq_explain.py, got {self.length}: "
                            "its record keeps one string of every n up to twice --length, which grows with its "
                            "square")
