"""Count what a reader of the mlnotes package meets: code, docstrings and input checks.

    python benchmarks/package_stats.py [PACKAGE_DIR] [--per-module]

Counts, from each module's syntax tree (``ast``), lines of the package's ``.py`` files:

- total: every line of the files;
- docstring: lines inside module, class and function docstrings;
- code: non-blank lines that are neither comments nor docstrings;
- check: lines of code that only check input, namely ``if`` blocks whose body only raises
  (the ``if`` line and its body) and statements that call a checker, a function whose name starts
  with ``check_``, ``_check`` or ``as_float`` (core's checkers and every module's private ones).

Also counts ``Oracle:`` lines in docstrings. Issue 16 sizes the package by these numbers; run it on
two checkouts to compare them. It prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

CHECKER_PREFIXES = ("check_", "_check", "as_float")


def _called_name(node: ast.AST) -> str | None:
    """The name of the function a call statement calls, if it is a call."""
    value = node.value if isinstance(node, ast.Expr | ast.Assign | ast.AnnAssign) else None
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _lines(node: ast.AST) -> set[int]:
    return set(range(node.lineno, node.end_lineno + 1))


def module_stats(path: Path) -> dict[str, int]:
    """Line counts of one module (see the module docstring for what each counts)."""
    source = path.read_text()
    tree = ast.parse(source)
    lines = source.splitlines()
    docstring, check = set(), set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
                docstring |= _lines(first)
        only_raises = isinstance(node, ast.If) and all(isinstance(s, ast.Raise) for s in node.body)
        if only_raises and not node.orelse:
            check |= _lines(node)
        name = _called_name(node) if isinstance(node, ast.stmt) else None
        if name and name.startswith(CHECKER_PREFIXES):
            check |= _lines(node)
    blank_or_comment = {
        number
        for number, line in enumerate(lines, start=1)
        if not line.strip() or line.strip().startswith("#")
    }
    code = set(range(1, len(lines) + 1)) - docstring - blank_or_comment
    return {
        "total": len(lines),
        "docstring": len(docstring),
        "code": len(code),
        "check": len(check & code),
        "oracle": sum("Oracle:" in lines[n - 1] for n in docstring),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package", nargs="?", default="mlnotes", type=Path)
    parser.add_argument("--per-module", action="store_true", help="one row per module")
    args = parser.parse_args()
    rows = {
        str(path.relative_to(args.package)): module_stats(path)
        for path in sorted(args.package.rglob("*.py"))
    }
    keys = ["total", "docstring", "code", "check", "oracle"]
    print(f"{'module':40}" + "".join(f"{key:>10}" for key in keys))
    if args.per_module:
        for name, stats in rows.items():
            print(f"{name:40}" + "".join(f"{stats[key]:>10}" for key in keys))
    totals = {key: sum(stats[key] for stats in rows.values()) for key in keys}
    print(f"{'all ' + str(len(rows)) + ' modules':40}" + "".join(f"{totals[k]:>10}" for k in keys))


if __name__ == "__main__":
    main()
