"""Part 3's settings: every flag of seq_train.py and of the commands that analyse its checkpoints, declared once.

Each field is a flag (lab.common.options.flag); a flag the commands share is
one ``Flag`` (--model and --hid are seq_models's). ``TrainSettings`` fills
what the flags leave at None from defaults_for (per language and model) and
checks the combinations once; ``CheckpointChoice`` names the checkpoint to
analyse, and ``PlotSettings``, ``MachineSettings`` and ``ExplainSettings``
add what seq_plot.py, seq_fsm.py and seq_explain.py do with it. Each is
unchangeable, a bad combination a UserError of one sentence.
"""
from dataclasses import dataclass

from lab.common.errors import UserError
from lab.common.options import SEED_MAX, Flag, Settings, check_settings, flag
from lab.common.errors import CheckpointError
from lab.recurrent.languages import LANGS, MULTIPLIERS, check_embed, lang_tag, make_language
from seq_models import CONFIG_NEEDS, HID, MODEL

MODELS = MODEL.choices
REPORT_EVERY = 1000  # sequences between reports
UNTIL_REPORTS = 10  # --until: the loss must stay below the threshold for this many reports
# Chosen by measurement (docs/results.md): per model, and the hidden units and thousands of sequences per language
# for (srn, lstm). The optimiser (adam), the sequences per update (10) and the momentum (0) are the flags' own.
MODEL_DEFAULTS = {"srn": dict(lr=0.003, init=0.5, candidates=8), "lstm": dict(lr=0.01, init=None, candidates=1)}
SIZE_DEFAULTS = {"anbn": ((2, 100), (2, 50)), "anb2n": ((2, 100), (2, 50)), "anbncn": ((4, 100), (3, 50)),
                 "anb2nc3n": ((4, 100), (3, 50)), "reber": ((4, 50), (4, 50)), "reber_embed": ((8, 100), (8, 100))}


def defaults_for(lang, model, embed=False):
    """The settings a language and model get where the flags give none (hid, epoch, lr, init, candidates)."""
    if lang not in LANGS or model not in MODELS:
        raise UserError(f"no network {model!r} for a language {lang!r}; choose from {', '.join(LANGS)} "
                        f"and {' or '.join(MODELS)}")
    hid, epoch = SIZE_DEFAULTS[lang_tag(lang, embed)][MODELS.index(model)]
    return dict(MODEL_DEFAULTS[model], hid=hid, epoch=epoch)


class SettingsBase(Settings):
    """What every settings class here shares: the plain dict (as_config) and the language's tag."""

    @property
    def tag(self):
        """The language's name in file names: reber_embed for the embedded grammar."""
        return lang_tag(self.lang, self.embed)


# seq_explain.py reads one string of every n up to --beyond x --length and its record keeps every state of them, so
# the record grows with the square of that top n (a^n b^2n c^3n, 3 LSTM units: 1.2 MB at 40, 4.6 MB at 80; past
# 50 MB at 600). EXPLAIN_MAX_LENGTH is the largest --length at the default --beyond 2.
EXPLAIN_MAX_N = 80
EXPLAIN_MAX_LENGTH = EXPLAIN_MAX_N // 2
# The flags the commands share; help=... where a command words one otherwise.
LANG = Flag(("--lang",), "anb2n", choices=LANGS, resume=True, help="language to learn (default: %(default)s)")
EMBED = Flag(("--embed",), False, bool, resume=True, help="embedded Reber grammar (with --lang reber)")
LENGTH = Flag(("--length",), None, int, low=0, resume=True,  # None: the language's own
              help="largest n (anb2n family, default 4) or minimum string length (reber, default 5)")
EPOCH = Flag(("--epoch",), None, int, above=0,
             help="which checkpoint, in thousands of sequences (default: the latest there is)")
OUT_PATH = Flag(("--out_path", "--out-path"), "net", help="folder of the checkpoints (default: %(default)s)")
PLOT_PATH = Flag(("--plot_path", "--plot-dir"), "plot", help="folder for the loss curve (default: %(default)s)")
SEED = Flag(("--seed",), 0, int, low=0, high=SEED_MAX, resume=True,
            help="random seed, 0 to 2**32-1 (default: %(default)s)")
THREADS = Flag(("--threads",), 1, int, above=0, help="torch CPU threads (default: %(default)s)")


def check_checkpoint(path, ckpt):
    """Check all the settings of a Part 3 checkpoint with seq_train.py's flags: its config, the seed and candidates
    beside it, and what its --resume state keeps; a CheckpointError names the file and the key."""
    check_settings(TrainSettings, path, ckpt["config"], "config", CheckpointError, CONFIG_NEEDS, {"hid": "num_hid"})
    check_settings(TrainSettings, path, {k: ckpt[k] for k in ("seed", "candidates") if k in ckpt}, "", CheckpointError)
    resume = ckpt.get("resume")
    if isinstance(resume, dict) and isinstance(resume.get("settings"), dict):
        check_settings(TrainSettings, path, resume["settings"], "resume.settings", CheckpointError)


def plot_path(what):
    """--plot_path of an analysis command, whose help says ``what`` it writes there."""
    return PLOT_PATH.field(help=f"folder for {what} and the run record (default: %(default)s)")


@dataclass(frozen=True)
class TrainSettings(SettingsBase):
    """One seq_train.py run: the language, the network, its training and where it goes."""

    lang: str = LANG.field()
    embed: bool = EMBED.field()
    length: int | None = LENGTH.field()
    model: str = MODEL.field()
    # None here and below: defaults_for the language and model
    hid: int | None = HID.field(help="hidden units (default: 2 for anbn and anb2n; 4 for anbncn and anb2nc3n (3 for "
                                     "lstm); 4 for reber, 8 for reber --embed)")
    optim: str = flag("--optim", "adam", choices=("sgd", "adam"), resume=True, help="optimiser (default: %(default)s)")
    lr: float | None = flag("--lr", kind=float, above=0, resume=True,
                            help="learning rate (default: 0.003 for srn, 0.01 for lstm)")
    mom: float = flag("--mom", 0.0, low=0, below=1, resume=True, help="SGD momentum (default: 0)")
    init: float | None = flag("--init", kind=float, above=0, resume=True,  # the SRN's only; None for an LSTM
                              help="standard deviation of the SRN's initial weights (default: 0.5)")
    epoch: int | None = EPOCH.field(help="thousands of training sequences (default: 100 for srn and 50 for lstm, but "
                                         "50 for both on reber and 100 for both on reber --embed)")
    batch: int = flag("--batch", 10, low=1, high=REPORT_EVERY, resume=True,
                      help="sequences per weight update; 1 is the course's online training (default: %(default)s)")
    candidates: int | None = flag("--candidates", kind=int, low=1, high=64, resume=True,
                                  help="train this many networks side by side in one fused layer and keep the best "
                                       "(1 = a single network; default: 8 for srn, 1 for lstm)")
    select: int | None = flag("--select", kind=int, above=0, resume=True,  # None: half of epoch
                              help="with --candidates > 1: thousands of sequences after which the best candidate "
                                   "is chosen for good (default: half of --epoch)")
    until: float | None = flag("--until", kind=float, above=0,  # None: train for all of epoch
                               help=f"stop once the loss stayed below this for {UNTIL_REPORTS} reports in a row "
                                    "(default: train for all of --epoch)")
    out_path: str = OUT_PATH.field(help="folder for checkpoints and the run record (default: %(default)s)")
    plot_path: str = PLOT_PATH.field()
    seed: int = SEED.field()
    resume: bool = flag("--resume", False,
                        help="go on from the last checkpoint of the same run (same flags; --epoch may be larger), "
                             "with its optimiser state and sequence generator, as if never stopped")
    threads: int = THREADS.field(help="torch CPU threads; 1 is fastest for these small networks (default: "
                                      "%(default)s)")
    recipe: str | None = flag("--recipe", choices=("count",),
                              help="train with a recipe instead of the course's training: 'count' aims at networks "
                                   "that go on counting past --length (integrator gate biases for an LSTM, a loss "
                                   "on the certain symbols only and, for an LSTM, on how far its phase ends move "
                                   "with n, clipped Adam with a decaying rate, and the candidate whose phase ends "
                                   "drift least over the training range; it sets its "
                                   "own --epoch, --batch, --lr and --candidates; see docs/results.md)")

    def __post_init__(self):
        self.check_flags()
        if self.recipe and (self.resume or self.until is not None or self.lang not in MULTIPLIERS):
            raise UserError("--recipe count trains a counting language (anbn, anb2n, anbncn, anb2nc3n) in one go: "
                            "it takes no --resume or --until")
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

    lang: str = LANG.field(help="language the network was trained on (default: %(default)s)")
    embed: bool = EMBED.field()
    model: str = MODEL.field()
    hid: int | None = HID.field()  # None: seq_train.py's default for the language and model
    epoch: int | None = EPOCH.field()  # None: the latest checkpoint there is
    checkpoint: str | None = flag("--checkpoint", help="a checkpoint file to load instead (its own settings apply; "
                                                       "default: none)")
    out_path: str = OUT_PATH.field()
    plot_path: str = plot_path("the images")
    length: int | None = LENGTH.field(  # None: the checkpoint's training length
        help="largest n (counting languages) or minimum length (reber) of the sequences (default: the checkpoint's "
             f"training one); seq_explain.py takes at most {EXPLAIN_MAX_LENGTH}, because its record keeps one string "
             "of every n up to twice this (--beyond times), and so grows with its square")

    def __post_init__(self):
        self.check_flags()
        check_embed(self.lang, self.embed)

    @property
    def series_hid(self):
        """The hidden size in the checkpoints' names: --hid, else seq_train.py's default."""
        return self.hid or defaults_for(self.lang, self.model, self.embed)["hid"]


@dataclass(frozen=True)
class PlotSettings(CheckpointChoice):
    """One seq_plot.py run: the checkpoint, and the fresh sequences printed and plotted."""

    num_plot: int = flag("--num_plot", 10, above=0, help="fresh sequences to print and plot (default: %(default)s)")
    context: bool = flag("--context", False, help="plot an LSTM's cell states instead of its hidden units")
    show: bool = flag("--show", False, help="also open the interactive 3-D window (needs a display)")
    seed: int = SEED.field(help="seed for the fresh sequences, 0 to 2**32-1 (default: %(default)s)")


@dataclass(frozen=True)
class MachineSettings(CheckpointChoice):
    """One seq_fsm.py run: the checkpoint, and how its finite-state machine is extracted, shown and validated."""

    plot_path: str = plot_path("the images and the .dot file")
    sequences: int = flag("--sequences", 1000, above=0,
                          help="fresh sequences whose states are clustered (default: %(default)s)")
    validate: int = flag("--validate", 1000, above=0, help="fresh sequences per validation set (default: %(default)s)")
    states: int | None = flag("--states", kind=int, low=2, high=10_000,  # None: the fewest that meet the criterion
                              help="number of extracted states (before merging), the start state included "
                                   "(default: chosen by the criterion)")
    max_states: int = flag("--max_states", 64, low=2, high=10_000,
                           help="most states tried when choosing, the start state included (default: %(default)s)")
    tv: float = flag("--tv", 0.1, above=0, high=1,  # largest mean total-variation distance from the network's predictions
                     help="criterion: largest mean total-variation distance between machine's and network's "
                          "predictions (default: %(default)s)")
    raw: bool = flag("--raw", False, help="print and draw the machine before merging equivalent states (the k-means "
                                          "clusters); by default the merged machine")
    seed: int = SEED.field(help="seed for the fresh sequences and the clustering (default: %(default)s)")
    threads: int = THREADS.field()


@dataclass(frozen=True)
class ExplainSettings(CheckpointChoice):
    """One seq_explain.py run: the checkpoint, and the seed of the fixed-point search's starting points."""

    plot_path: str = plot_path("the figures")
    seed: int = SEED.field(help="seed for the fixed-point search's starting points, 0 to 2**32-1 (default: "
                                "%(default)s)")
    beyond: int = flag("--beyond", 2, low=2, high=8,
                       help="read one string of every n up to this many times the training n: the strings past it "
                            "show where the count holds and where it breaks (default: %(default)s)")

    def __post_init__(self):
        super().__post_init__()
        if self.length is not None:
            self.check_top(self.length, "--length")

    def check_top(self, length, what):
        """Refuse a largest n (``length`` x --beyond) whose record would be too large; ``what`` names the length."""
        if length * self.beyond > EXPLAIN_MAX_N:
            raise UserError(f"{what} must be at most {EXPLAIN_MAX_N // self.beyond} for seq_explain.py, got {length}: "
                            f"its record keeps one string of every n up to --beyond ({self.beyond}) times --length, "
                            "which grows with its square")
