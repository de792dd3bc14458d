"""The declared-tolerance comparison of notebook outputs (tests/nbval_tolerance.py): unit cases of
its parts, then real nbval runs of small notebooks whose stored outputs differ from what they
print, each inside or outside the tolerance its cell declares."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from nbval_tolerance import Tolerance, declared_tolerance, reconcile

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    "source, expected",
    [
        ("x = 1\nprint(x)", None),
        ("# NBVAL_TOLERANCE 0.02\nprint(auc)", Tolerance(0.02)),
        ("#NBVAL_TOLERANCE 1.5  (points of accuracy)\nprint(acc)", Tolerance(1.5)),
        ("# NBVAL_TOLERANCE 5%\nprint(loss)", Tolerance(0.05, relative=True)),
    ],
)
def test_the_declaration_is_read_from_a_comment_line(source, expected):
    assert declared_tolerance(source) == expected


def test_two_declarations_in_one_cell_are_refused():
    with pytest.raises(ValueError, match="2 times"):
        declared_tolerance("# NBVAL_TOLERANCE 1\n# NBVAL_TOLERANCE 2\n")


def test_numbers_within_an_absolute_tolerance_take_the_stored_text():
    # |0.912 - 0.932| = 0.02 exactly in decimal, slightly more in binary: still inside
    assert reconcile("AUC 0.912, acc 91.2 %", "AUC 0.932, acc 90.0 %", Tolerance(1.5)) == (
        "AUC 0.932, acc 90.0 %",
        [],
    )
    assert reconcile("AUC 0.912", "AUC 0.932", Tolerance(0.02))[1] == []


def test_a_table_whose_numbers_change_width_is_still_compared_number_by_number():
    stored = "   8     9.0     4.3\n  32    50.5    11.3\n"
    new = "   8     8.7     4.1\n  32    55.1     5.9\n"  # 11.3 -> 5.9: one space more
    assert reconcile(new, stored, Tolerance(8)) == (stored, [])
    assert reconcile(new, stored, Tolerance(5))[1] == ["5.9 where 11.3 is stored (tolerance ±5)"]


def test_a_relative_tolerance_scales_with_the_stored_value():
    assert reconcile("loss 104", "loss 100", Tolerance(0.05, relative=True))[1] == []
    assert reconcile("loss 0.0106", "loss 0.0100", Tolerance(0.05, relative=True))[1] != []


def test_a_number_outside_the_tolerance_is_named_with_its_stored_value():
    text, outside = reconcile("AUC 0.95, acc 91.2", "AUC 0.98, acc 91.2", Tolerance(0.02))
    assert text == "AUC 0.95, acc 91.2"
    assert len(outside) == 1 and "0.95" in outside[0] and "0.98" in outside[0]
    assert "±0.02" in outside[0]


@pytest.mark.parametrize(
    "new, stored",
    [("precision 0.91", "accuracy 0.91"), ("accuracy 0.91", "accuracy 0.91 0.5"), ("-1", "1")],
    ids=["changed word", "missing number", "sign beyond tolerance"],
)
def test_changed_words_and_missing_numbers_are_not_reconciled(new, stored):
    assert reconcile(new, stored, Tolerance(0.5))[0] == new


def test_the_stored_text_is_compared_after_sanitizing():
    def sanitize(s):
        return s.replace("0x7f3a", "0xADDRESS").replace("0x55aa", "0xADDRESS")

    assert reconcile("at 0x7f3a: 0.51", "at 0x55aa: 0.50", Tolerance(0.02), sanitize)[1] == []


# --- end to end: nbval itself, with the project's hook -----------------------------------------

CONFTEST = """
from nbval_tolerance import apply_declared_tolerances

def pytest_collection_modifyitems(items):
    apply_declared_tolerances(items)
"""

# (source of the one cell, its stored stdout) -> does nbval pass?
CASES = {
    "inside": ("# NBVAL_TOLERANCE 1.5\nprint('acc 91.2 AUC 0.978')", "acc 92.3 AUC 0.979\n", True),
    "outside": ("# NBVAL_TOLERANCE 1.5\nprint('accuracy 91.2 %')", "accuracy 94.0 %\n", False),
    "word": ("# NBVAL_TOLERANCE 1.5\nprint('accuracy 91.2 %')", "precision 91.2 %\n", False),
    "missing": ("# NBVAL_TOLERANCE 1.5\nprint('accuracy %')", "accuracy 91.2 %\n", False),
    "undeclared": ("print('accuracy 91.2 %')", "accuracy 91.3 %\n", False),
    "result": ("# NBVAL_TOLERANCE 0.02\n0.9121", None, True),
}  # fmt: skip


def notebook(source, stored):
    new_output = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    cell.outputs = [
        new_output("execute_result", {"text/plain": "0.93"}, execution_count=1)
        if stored is None  # an expression's value instead of printed text
        else new_output("stream", name="stdout", text=stored)
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


@pytest.mark.slow
def test_nbval_passes_inside_the_tolerance_and_fails_outside_it(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name, (source, stored, _) in CASES.items():
        nbformat.write(notebook(source, stored), tmp_path / f"{name}.ipynb")
    report = tmp_path / "report.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         f"--junitxml={report}", "-o", f"pythonpath={TESTS}", "--rootdir", str(tmp_path),
         str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    outcomes = {
        Path(case.get("classname")).stem: case.find("failure") is None
        for case in ET.parse(report).iter("testcase")
    }
    assert outcomes == {name: passes for name, (_, _, passes) in CASES.items()}, run.stdout
    # the failure names the number, its stored value and the tolerance
    assert "91.2 where 94.0 is stored (tolerance ±1.5)" in run.stdout
