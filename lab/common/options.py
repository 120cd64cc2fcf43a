"""Number types for argparse: a bad number is refused (exit 2) before any work starts.
"""
import argparse
import math


FLOAT32_MAX = 3.4028234663852886e38  # the largest float torch's default dtype holds



SEED_MAX = 2**32 - 1  # numpy's generators take seeds up to this



def number(kind, low=None, above=None, high=None):
    """An argparse type for a finite number of ``kind`` (int or float): at least ``low``, above ``above``, at most ``high``.

    Floats must also fit torch's float32, so a learning rate of 1e40 is refused here, not by an overflow later.
    """
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value) or (kind is float and abs(value) > FLOAT32_MAX):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number (float32 holds up to 3.4e38)")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {text}")
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"must be above {above}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {text}")
        return value
    return parse



def positive(kind):
    """An argparse type for numbers of ``kind`` that must be above zero."""
    return number(kind, above=0)



def seed_number():
    """The argparse type of --seed in every command: a whole number from 0 to SEED_MAX."""
    return number(int, low=0, high=SEED_MAX)
