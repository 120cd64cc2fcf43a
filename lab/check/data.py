"""Part 2's data: the check CSV file, read and checked line by line.

The file is a header ``x1,x2,target`` and then one item a line: two inputs
and a target of 0 or 1. Anything else is a UserError naming the file and
the line, so a student can find and fix it.
"""
import csv
import math

import torch

from lab.common.errors import UserError

HEADER = ["x1", "x2", "target"]
LARGEST_INPUT = 1e6  # inputs beyond this are refused: the plots and the sigmoid units make no sense there


def load_data(path):
    """Read the check data: a header ``x1,x2,target``, then one item a line.

    Returns ``(x, y)``: float tensors of shape (n, 2) and (n, 1). Any problem
    is a UserError naming the file and the line.
    """
    lines = _read_rows(path)
    if not lines or [cell.strip() for cell in lines[0]] != HEADER:
        found = repr(",".join(lines[0])) if lines else "an empty file"
        raise UserError(f"{path}, line 1: expected the header {','.join(HEADER)}, found {found}")
    inputs, targets = [], []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = _item(path, number, cells)
        inputs.append(values[:2])
        targets.append(values[2:])
    if not inputs:
        raise UserError(f"{path}: no data rows after the header")
    return torch.tensor(inputs), torch.tensor(targets)


def _read_rows(path):
    """The file's rows of cells; a file that cannot be read is a UserError."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return list(csv.reader(handle))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text file") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read it ({err.strerror})") from None


def _item(path, number, cells):
    """Line ``number``'s three cells as numbers [x1, x2, target], each checked."""
    if len(cells) != 3:
        raise UserError(f"{path}, line {number}: expected 3 cells (x1,x2,target), found {len(cells)}")
    values = []
    for name, cell in zip(HEADER, cells):
        try:
            value = float(cell)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise UserError(f"{path}, line {number}: {name} is {cell.strip()!r}, not a number")
        if abs(value) > LARGEST_INPUT:
            raise UserError(f"{path}, line {number}: {name} is {cell.strip()}; inputs must lie within "
                            f"-{LARGEST_INPUT:g} to {LARGEST_INPUT:g}")
        values.append(value)
    if values[2] not in (0.0, 1.0):
        raise UserError(f"{path}, line {number}: target is {cells[2].strip()!r}; it must be 0 or 1")
    return values
