"""Compare the numbers of a notebook cell's output within the tolerance the cell declares.

nbval compares a re-executed cell's outputs with the stored ones character for character. That is
right for exact things, and wrong for the result of a training run, which moves a little with the
CPU's kernels and thread count. A cell whose result is such a number declares how far it may move
with a comment line (a relative tolerance ends in %):

    # NBVAL_TOLERANCE 0.02
    # NBVAL_TOLERANCE 5%

In such a cell every output text is split into its numbers and the words between them. The words
must be the same (runs of spaces count as one: columns pad numbers) and every number must lie
within the tolerance of its stored value; then the
stored text stands in for the new one and nbval's strict comparison of everything else goes on. A
number outside the tolerance is named in the failure, with its stored value and the tolerance.
"""

import copy
import re
from dataclasses import dataclass

import nbformat

DECLARATION = re.compile(r"^\s*#\s*NBVAL_TOLERANCE\s+(\d+(?:\.\d*)?|\.\d+)\s*(%?)", re.MULTILINE)
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")


@dataclass(frozen=True)
class Tolerance:
    amount: float
    relative: bool = False

    def allows(self, new: float, stored: float) -> bool:
        bound = self.amount * abs(stored) if self.relative else self.amount
        # slack for the decimal rounding of the printed numbers (0.932 - 0.912 > 0.02 in binary)
        return new == stored or abs(new - stored) <= bound * (1 + 1e-9)

    def __str__(self):
        return f"±{self.amount:g}{'%' if self.relative else ''}"


def declared_tolerance(source: str) -> Tolerance | None:
    """The tolerance a cell's `# NBVAL_TOLERANCE x` (or `x%`) line declares, if any."""
    found = DECLARATION.findall(source)
    if len(found) > 1:
        raise ValueError(f"a cell declares NBVAL_TOLERANCE {len(found)} times:\n{source}")
    if not found:
        return None
    amount, percent = found[0]
    return Tolerance(float(amount) / 100, relative=True) if percent else Tolerance(float(amount))


def words(text: str) -> list[str]:
    """The text between the numbers, runs of spaces counted as one: a table's columns pad a
    number to a fixed width, so 9.0 and 10.3 change the spaces before them."""
    return [re.sub(r"[ \t]+", " ", part) for part in NUMBER.split(text)]


def reconcile(new: str, stored: str, tolerance: Tolerance, sanitize=str) -> tuple[str, list[str]]:
    """`stored` if `new` has the same words and its numbers lie within tolerance, else `new`.

    Both texts are compared after `sanitize` (nbval's patterns: addresses, figure sizes). The list
    names each number outside the tolerance (empty when the words differ: nbval's diff then shows
    the change).
    """
    a, b = sanitize(new), sanitize(stored)
    if words(a) != words(b):
        return new, []
    pairs = zip(NUMBER.findall(a), NUMBER.findall(b), strict=True)
    outside = [
        f"{n} where {s} is stored (tolerance {tolerance})"
        for n, s in pairs
        if not tolerance.allows(float(n), float(s))
    ]
    return (new, outside) if outside else (stored, [])


def reconcile_output(new: dict, stored: dict, tolerance: Tolerance, sanitize, outside: list):
    """A copy of the output `new` whose texts are reconciled with those of `stored`."""
    if new.get("output_type") != stored.get("output_type"):
        return new
    new = nbformat.from_dict(copy.deepcopy(new))  # nbval reads outputs as NotebookNodes
    texts = [(new, stored, "text")] + [
        (new["data"], stored.get("data", {}), key) for key in new.get("data", {})
    ]
    for target, source, key in texts:
        if isinstance(target.get(key), str) and isinstance(source.get(key), str):
            target[key], problems = reconcile(target[key], source[key], tolerance, sanitize)
            outside.extend(problems)
    return new


def compare_within_tolerance(cell, tolerance: Tolerance):
    """nbval's `compare_outputs` of `cell`, with its output numbers compared within `tolerance`."""
    strict = cell.compare_outputs

    def compare(test, ref, skip_compare=None):
        outside = []
        test = [
            reconcile_output(new, stored, tolerance, cell.sanitize, outside)
            for new, stored in zip(test, ref, strict=False)
        ] + list(test[len(ref) :])
        same = strict(test, ref, skip_compare)
        if not same and outside:
            cell.comparison_traceback.insert(0, "Numbers outside the declared tolerance:")
            cell.comparison_traceback[1:1] = [f"  {line}" for line in outside] + [""]
        return same

    return compare


def apply_declared_tolerances(items):
    """Give every nbval cell among pytest's `items` that declares a tolerance its comparison."""
    for item in items:
        tolerance = declared_tolerance(getattr(item, "cell", {}).get("source", ""))
        if tolerance is not None and hasattr(item, "compare_outputs"):
            item.compare_outputs = compare_within_tolerance(item, tolerance)
