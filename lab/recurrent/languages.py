"""Part 3's languages by name, and batching their sequences into tensors.

Every language object shares one small interface:

- ``tag``: its name in file names (``anb2n``, ``reber``, ``reber_embed``, ...);
- ``symbols``, ``num_symbols``, ``decode(seq)``;
- ``get_sequence(rng)`` -> ``(seq, prob, state)``: the symbols, the true
  next-symbol probabilities after each input, the grammar's state after each input;
- ``counting``: true for the a^n b^2n family, whose strings' n decides what
  follows (these also have ``length``, ``num_strings``, ``mult``,
  ``sequence_for(ns)``, ``string_length(n)`` and ``certain_given_n(inputs)``);
- ``has_final``: true for embedded Reber, whose closing T/P (at
  ``final_position(seq)``) is scored on its own.
"""
import numpy as np
import torch
import torch.nn.functional as F

from anb2n import MULTIPLIERS, AnbnLanguage
from reber import SHORTEST, ReberLanguage
from lab.common.errors import UserError

LANGS = (*MULTIPLIERS, "reber")
CERTAIN = 0.999  # a true probability above this counts as certain (a deterministic symbol)
PREDICTED = 0.5  # a certain symbol counts as predicted when given a probability above this


def lang_tag(lang, embed=False):
    """The language's name in file names: reber_embed for the embedded grammar."""
    return "reber_embed" if lang == "reber" and embed else lang


def check_embed(lang, embed):
    """--embed goes with --lang reber only."""
    if embed and lang != "reber":
        raise UserError("--embed applies to --lang reber only")


def make_language(lang, embed=False, length=None):
    """The sequence generator for a language (length: largest n, or Reber's minimum length)."""
    if lang not in LANGS:
        raise UserError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    check_embed(lang, embed)
    if lang == "reber":
        length = SHORTEST if length is None else length
        if length < 0:
            raise UserError(f"--length (minimum string length) must be 0 or more, got {length}")
        return ReberLanguage(embed=embed, length=length)
    length = 4 if length is None else length
    if length < 1:
        raise UserError(f"--length (largest n) must be at least 1, got {length}")
    return AnbnLanguage(MULTIPLIERS[lang], length=length, tag=lang)


def collate(samples, num_symbols):
    """Pad a list of (seq, prob, state) samples into tensors.

    Returns x (B, T, S) one-hot inputs, target (B, T) next symbols, prob
    (B, T, S) true probabilities, mask (B, T) true where a position exists.
    """
    lengths = [len(s[1]) for s in samples]
    batch, steps = len(samples), max(lengths)
    inputs = np.zeros((batch, steps), dtype=np.int64)
    target = np.zeros((batch, steps), dtype=np.int64)
    prob = np.zeros((batch, steps, num_symbols), dtype=np.float32)
    mask = np.zeros((batch, steps), dtype=bool)
    for b, (seq, p, _) in enumerate(samples):
        n = len(p)
        inputs[b, :n], target[b, :n], prob[b, :n], mask[b, :n] = seq[:-1], seq[1:], p, True
    x = F.one_hot(torch.from_numpy(inputs), num_symbols).float()
    return x, torch.from_numpy(target), torch.from_numpy(prob), torch.from_numpy(mask)
