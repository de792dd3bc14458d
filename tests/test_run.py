"""The `mlnotes execute` command re-executes notebooks in place and reports failures."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mlnotes.run import main, merge_streams

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook(tmp_path, name, *sources):
    path = tmp_path / name
    nb = new_notebook(
        cells=[new_code_cell(s) for s in sources], metadata={"kernelspec": KERNELSPEC}
    )
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_execute_writes_outputs_in_place_and_runs_in_the_notebook_folder(tmp_path, capsys):
    (tmp_path / "data.txt").write_text("42")
    path = notebook(tmp_path, "ok.ipynb", "x = 6 * 7", "print(x, open('data.txt').read())")
    assert main(["execute", str(path)]) == 0
    cells = nbformat.read(path, as_version=4).cells
    assert [c.execution_count for c in cells] == [1, 2]
    assert cells[1].outputs[0]["text"] == "42 42\n"
    assert "execution" not in cells[1].metadata  # no wall-clock timestamps in committed files
    assert "ok " in capsys.readouterr().out


@pytest.mark.slow
def test_a_failing_notebook_is_left_untouched_and_the_exit_status_says_so(tmp_path, capsys):
    good = notebook(tmp_path, "good.ipynb", "1 + 1")
    bad = notebook(tmp_path, "bad.ipynb", "raise ValueError('on purpose')")
    before = bad.read_text()
    assert main(["execute", str(bad), str(good)]) == 1
    assert bad.read_text() == before
    assert nbformat.read(good, as_version=4).cells[0].execution_count == 1  # the others still ran
    err = capsys.readouterr().err
    assert "FAILED" in err and "on purpose" in err and "1 of 2 notebooks failed" in err


def test_execute_rejects_what_is_not_a_notebook(tmp_path):
    (tmp_path / "notes.md").write_text("# not a notebook")
    for path in (tmp_path / "notes.md", tmp_path / "missing.ipynb"):
        with pytest.raises(SystemExit) as exit_info:
            main(["execute", str(path)])
        assert exit_info.value.code == 2


def test_merge_streams_joins_consecutive_prints_of_the_same_stream():
    out = [
        nbformat.v4.new_output("stream", name="stdout", text="a\n"),
        nbformat.v4.new_output("stream", name="stdout", text="b\n"),
        nbformat.v4.new_output("stream", name="stderr", text="warn\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
        nbformat.v4.new_output("stream", name="stdout", text="c\n"),
    ]
    merged = merge_streams(out)
    assert [(o.output_type, o.get("text")) for o in merged] == [
        ("stream", "a\nb\n"),
        ("stream", "warn\n"),
        ("display_data", None),
        ("stream", "c\n"),
    ]
