"""Flags declared once: a settings field names its spelling, default, type, bounds and help, and the rest follows.

    hid: int = flag("--hid", 500, low=1, high=100_000, resume=True, help="hidden units (default %(default)s)")

``add_flags`` makes the command line of such fields (a bad number refused,
exit 2, before any work starts), ``check_settings`` checks the settings a
file holds with the same bounds, ``same_on_resume`` names those --resume
needs unchanged. A flag several commands share is one ``Flag``.
"""
import argparse
import dataclasses
import math

from lab.common import schema
from lab.common.errors import UserError

FLOAT32_MAX = 3.4028234663852886e38  # the largest float torch's default dtype holds
SEED_MAX = 2**32 - 1  # numpy's generators take seeds up to this


def number(kind, low=None, above=None, high=None, below=None):
    """An argparse type for a finite number of ``kind`` (int or float): at least ``low``, above ``above``, at most
    ``high``, below ``below``.

    Floats must also fit torch's float32, so a learning rate of 1e40 is refused here, not by an overflow later.
    """
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value) or (kind is float and abs(value) > FLOAT32_MAX):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number (float32 holds up to 3.4e38)")
        for bound, wrong, words in ((low, value < (low or 0), "at least"), (above, value <= (above or 0), "above"),
                                    (high, value > (high or 0), "at most"), (below, value >= (below or 0), "below")):
            if bound is not None and wrong:
                raise argparse.ArgumentTypeError(f"must be {words} {bound}, got {text}")
        return value
    return parse


@dataclasses.dataclass(frozen=True)
class Flag:
    """One flag: spellings, default, type (int, float, str; bool: a switch, or --x/--no-x with default None), bounds
    or choices, help, metavar, and whether --resume goes on with a run only where this setting is the same."""

    names: tuple
    default: object = None
    kind: type = str
    low: float = None
    above: float = None
    below: float = None
    high: float = None
    choices: tuple = None
    help: str = ""
    metavar: str = None
    resume: bool = False

    def field(self, help=None):
        """A settings field declared by this flag; ``help`` words it for one command."""
        return dataclasses.field(default=self.default, metadata={"flag": self, "help": help or self.help})

    def argument(self):
        """argparse's keyword arguments for this flag (all but its names, dest and help)."""
        if self.kind is bool:
            return {"action": "store_true" if self.default is False else argparse.BooleanOptionalAction,
                    "default": self.default}
        parse = number(self.kind, self.low, self.above, self.high, self.below) if self.kind in (int, float) else None
        return {"default": self.default, "choices": self.choices, "metavar": self.metavar,
                "type": self.kind if self.choices and self.kind is not str else parse}

    def spec(self, nullable):
        """What the setting must be in a file (lab.common.schema), None allowed if ``nullable``."""
        more = {"optional": True, "nullable": nullable}
        if self.kind in (bool, str):
            return schema.flag(**more) if self.kind is bool else schema.text(self.choices, **more)
        low, above = self.low, self.above
        if self.kind is int and above is not None:  # said as "from 1 to 1024", not "above 0 and at most 1024"
            low, above = above + 1, None
        return (schema.whole if self.kind is int else schema.number)(
            low, self.high, above=above, below=self.below, choices=self.choices, **more)


def flag(names, default=None, kind=None, **more):
    """A settings field that is a flag (see Flag); ``names`` is its spelling or a tuple of them, ``kind`` by
    default the default's type."""
    names = (names,) if isinstance(names, str) else tuple(names)
    return Flag(names, default, kind or (str if default is None else type(default)), **more).field()


def declared(cls):
    """(field name, Flag, help) for every flag field of the settings class ``cls``, in order."""
    return [(f.name, f.metadata["flag"], f.metadata["help"]) for f in dataclasses.fields(cls) if "flag" in f.metadata]


def add_flags(parser, cls):
    """Add a flag to ``parser`` for every flag field of ``cls``, in its order; returns the parser."""
    for name, declared_flag, words in declared(cls):
        parser.add_argument(*declared_flag.names, dest=name, help=words, **declared_flag.argument())
    return parser


def parse_settings(cls, argv, description, usage_errors=False):
    """The ``cls`` that the command line ``argv`` gives; with ``usage_errors`` a UserError of the settings (flags
    that do not fit together) is a usage error, exit 2, as argparse's own."""
    parser = add_flags(argparse.ArgumentParser(description=description), cls)
    try:
        return cls(**vars(parser.parse_args(argv)))
    except UserError as err:
        if not usage_errors:
            raise
        parser.error(str(err))


def check_settings(flags, path, data, where, error=UserError, required=(), names=None):
    """Check the settings ``data`` read from ``path`` with ``flags`` (a settings class, or {field: Flag}): a key that
    names a field must hold what its flag takes, each of ``required`` be there and not None; ``names`` maps a field to
    its key (a config's num_hid is --hid). Returns ``data``; else ``error`` names the file and ``where.key``."""
    missing = [key for key in required if key not in data]
    if missing:
        raise error(f"{path} is missing the setting(s) {', '.join(missing)} in its {where}")
    flags = flags if isinstance(flags, dict) else {name: f for name, f, _ in declared(flags)}
    keys = {(names or {}).get(name, name): f for name, f in flags.items()}
    specs = {key: f.spec(nullable=f.default is None and key not in required) for key, f in keys.items()}
    return schema.check(path, data, schema.fields(specs), where, error)


class Settings:
    """What every settings dataclass of flags shares: the plain dict of its values, and their check."""

    def as_config(self):
        """The settings as a plain dict, under the flags' names: the run record's (and a checkpoint's args)."""
        return dataclasses.asdict(self)

    def check_flags(self):
        """Check the values with their flags, however the object was built; a UserError naming the flag."""
        for name, declared_flag, _ in declared(type(self)):
            spec = declared_flag.spec(declared_flag.default is None)
            found = schema.problem(getattr(self, name), spec, declared_flag.names[0])
            if found:
                raise UserError(" ".join(found))


def same_on_resume(cls):
    """The names of ``cls``'s settings that must be the same for --resume to go on with a run."""
    return tuple(name for name, declared_flag, _ in declared(cls) if declared_flag.resume)
