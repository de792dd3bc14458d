"""`mlnotes run`: the plan is checked before anything runs; notebooks run as papermill copies,
failures and Ctrl-C are reported, and the report, the status page and the exit status say so.

Every test but the last builds its own small book in tmp_path (synthetic notebooks with a
``parameters`` cell), so no test pins a real chapter's parameters.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mlnotes import runner
from mlnotes.run import main

BOOK = Path(__file__).resolve().parents[1] / "book"
SIGNALS = "10-signals"
SIGNALS_PARAMETERS = "n_train = 200\nepochs = 15\nlr = 0.01\nlength = 128\nseed = 0\ndevice = 'cpu'"
VOLUMES_PARAMETERS = "epochs = 8\nlr = 0.001\nweights = None\ndevice = 'cpu'"
TINY = {"n_train": 4, "epochs": 1}


def tagged(nb, tag):
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


def notebook(parameters=None, body="", headline=()):
    """A small notebook: a title, a ``parameters``-tagged cell (if given), then ``body``."""
    cells = [new_markdown_cell("# A page")]
    if parameters is not None:
        cells.append(new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    cells.append(new_code_cell(body))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["mlnotes"] = {"headline": list(headline)}
    return nb


@pytest.fixture
def book(tmp_path):
    """tmp_path/repo/book: chapter 01 (one notebook with parameters, one without) and chapter 10
    (two notebooks with parameters, one glueing its accuracy), plus a ``presets.yml``."""
    book = tmp_path / "repo" / "book"
    pages = {
        "01-intro/plain.ipynb": notebook(body="x = 1"),
        "01-intro/warmup.ipynb": notebook("seed = 0", "y = seed + 1"),
        f"{SIGNALS}/conv1d.ipynb": notebook(
            SIGNALS_PARAMETERS,
            "from myst_nb import glue\n"
            "glue('acc', 100 * epochs / (epochs + 1), display=False)\n"
            "glue('label', 'ring', display=False)",
            headline=["acc"],
        ),
        f"{SIGNALS}/conv3d.ipynb": notebook(VOLUMES_PARAMETERS, "z = epochs * lr"),
        "_build/ignored.ipynb": notebook("seed = 0"),
    }
    for name, nb in pages.items():
        (book / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, book / name)
    presets = {"ci": {}, "tiny": {f"book/{SIGNALS}/conv1d.ipynb": TINY}}
    (book / "presets.yml").write_text(yaml.safe_dump(presets))
    return book


# --- choosing notebooks and checking the plan --------------------------------------------------


def test_find_notebooks_lists_exactly_the_notebooks_with_a_parameters_cell(book):
    names = [str(p.relative_to(book)) for p in runner.find_notebooks(book)]
    assert names == ["01-intro/warmup.ipynb", f"{SIGNALS}/conv1d.ipynb", f"{SIGNALS}/conv3d.ipynb"]
    assert len(runner.book_notebooks(book)) == 4  # _build is not the book's


def test_chapters_are_named_by_number_folder_or_notebook(book):
    by_number = runner.select_notebooks(book, ["10"])
    assert [p.name for p in by_number] == ["conv1d.ipynb", "conv3d.ipynb"]
    assert runner.select_notebooks(book, [SIGNALS]) == by_number
    one = book / SIGNALS / "conv1d.ipynb"
    assert runner.select_notebooks(book, [str(one)]) == [one]
    both = runner.select_notebooks(book, ["10", "1"])  # book order, whatever the order asked
    assert [p.parent.name[:2] for p in both] == ["01", "10", "10"]
    assert runner.select_notebooks(book, []) == runner.find_notebooks(book)


@pytest.mark.parametrize(
    ("chapters", "message"),
    [
        (["11"], "no chapter '11'.*01-intro, 10-signals"),
        (["99-nothing"], "no chapter"),
        (["01-intro/plain.ipynb"], "parameters cell"),
    ],
)
def test_unknown_chapters_are_refused(book, chapters, message):
    chapters = [str(book / c) if c.endswith(".ipynb") else c for c in chapters]
    with pytest.raises(ValueError, match=message):
        runner.select_notebooks(book, chapters)


def signals_plan(book, tmp_path, presets, preset="ci", overrides=None, device=None):
    notebooks = runner.select_notebooks(book, ["10"])
    return runner.plan(notebooks, presets, preset, overrides or {}, device, tmp_path, book.parent)


def test_plan_layers_defaults_preset_overrides_and_device(book, tmp_path):
    presets = {"ci": {}, "big": {f"book/{SIGNALS}/conv1d.ipynb": {"epochs": 30, "lr": 0.1}}}
    first, second = signals_plan(book, tmp_path, presets, "big", {"lr": 0.5, "length": 64}, "cuda")
    assert first.parameters == {"epochs": 30, "lr": 0.5, "length": 64, "device": "cuda"}
    assert second.parameters == {"lr": 0.5, "device": "cuda"}  # conv3d has no `length`
    assert first.output == tmp_path / SIGNALS / "conv1d.ipynb" and first.chapter == SIGNALS
    assert signals_plan(book, tmp_path, presets)[0].parameters == {}  # ci: the defaults


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("nope", {}, "preset 'nope'.*bad, ci"),
        ("ci", {"epochz": 3}, "parameter.*epochz"),
        ("ci", {"epochs": "many"}, "epochs expects int.*15.*'many'"),
        ("ci", {"lr": True}, "lr expects float"),
        ("ci", {"seed": 1.5}, "seed expects int"),
        ("bad", {}, "'bad' sets epochz"),
    ],
)
def test_plan_refuses_unknown_names_and_wrong_types(book, tmp_path, preset, overrides, message):
    presets = {"ci": {}, "bad": {f"book/{SIGNALS}/conv3d.ipynb": {"epochz": 1}}}
    with pytest.raises(ValueError, match=message):
        signals_plan(book, tmp_path, presets, preset, overrides)


def test_an_int_may_replace_a_float_and_none_accepts_anything():
    runner.check_override(Path("x"), "lr", 0.1, 1)
    runner.check_override(Path("x"), "weights", None, "imagenet")
    runner.check_override(Path("x"), "flag", True, False)
    with pytest.raises(ValueError, match="shots expects list"):
        runner.check_override(Path("x"), "shots", [1, 2], 5)
    with pytest.raises(ValueError, match="epochs expects int"):
        runner.check_override(Path("x"), "epochs", 3, False)


def test_notebook_parameters_reads_the_literal_defaults(book, tmp_path):
    assert runner.notebook_parameters(book / SIGNALS / "conv3d.ipynb") == {
        "epochs": 8, "lr": 0.001, "weights": None, "device": "cpu",
    }  # fmt: skip
    assert runner.notebook_parameters(book / "01-intro/plain.ipynb") == {}
    for source, message in (("print(1)", "only assignments"), ("n = len('ab')", "literals")):
        nbformat.write(notebook(source), tmp_path / "odd.ipynb")
        with pytest.raises(ValueError, match=message):
            runner.notebook_parameters(tmp_path / "odd.ipynb")


def test_glued_values_keeps_numbers_and_skips_figures_and_text():
    def glued(name, text):
        return new_output(
            "display_data", data={runner.GLUE_MIME: text}, metadata={"scrapbook": {"name": name}}
        )

    cell = new_code_cell("glue(...)")
    cell.outputs = [
        glued("acc", "0.97"), glued("n", "12"), glued("name", "'ring'"), glued("flag", "True"),
        new_output("stream", name="stdout", text="0.5\n"),
    ]  # fmt: skip
    assert runner.glued_values(new_notebook(cells=[cell])) == {"acc": 0.97, "n": 12}


def test_presets_file_must_map_presets_to_notebooks(tmp_path):
    (tmp_path / "p.yml").write_text("ci:\ntiny:\n  book/a.ipynb: {epochs: 1}\n")
    assert runner.load_presets(tmp_path / "p.yml") == {
        "ci": {}, "tiny": {"book/a.ipynb": {"epochs": 1}},
    }  # fmt: skip
    (tmp_path / "p.yml").write_text("- ci\n")
    with pytest.raises(ValueError, match="mapping of presets"):
        runner.load_presets(tmp_path / "p.yml")


# --- running -----------------------------------------------------------------------------------


@pytest.fixture
def failing_book(book):
    """The book with a copy of conv3d that raises on purpose after its parameters."""
    broken = nbformat.read(book / SIGNALS / "conv3d.ipynb", as_version=4)
    position = broken.cells.index(tagged(broken, "parameters")[0]) + 1
    broken.cells.insert(position, new_code_cell("raise RuntimeError('on purpose')"))
    nbformat.write(broken, book / SIGNALS / "failing.ipynb")
    return book


@pytest.mark.slow
def test_run_writes_copies_report_status_page_and_fails_for_the_broken_notebook(
    failing_book, tmp_path, capsys
):
    sources = {p: p.read_bytes() for p in failing_book.glob("*/*.ipynb")}
    out, status = tmp_path / "out", tmp_path / "status.md"
    argv = ["run", "10", "--book", str(failing_book), "--preset", "tiny", "--output-dir",
            str(out), "--status-page", str(status), "--no-progress"]  # fmt: skip
    assert main(argv) == 1  # one notebook failed
    assert {p: p.read_bytes() for p in failing_book.glob("*/*.ipynb")} == sources  # untouched

    report = json.loads((out / "report.json").read_text())
    by_name = {Path(n["notebook"]).name: n for n in report["notebooks"]}
    assert [by_name[n]["status"] for n in sorted(by_name)] == ["ok", "ok", "failed"]
    failed = by_name["failing.ipynb"]
    assert failed["error"] == "RuntimeError: on purpose" and failed["failed_cell"] >= 1
    copy = nbformat.read(out / SIGNALS / "failing.ipynb", as_version=4)
    errors = [o for c in copy.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert len(errors) == 1 and errors[0].evalue == "on purpose"  # the copy keeps the failure

    ok = by_name["conv1d.ipynb"]
    assert ok["parameters"] == TINY and 0 < ok["seconds"] < 600
    assert ok["metrics"] == {"acc": 50.0}  # epochs = 1 reached the kernel; text is skipped
    executed = nbformat.read(out / SIGNALS / "conv1d.ipynb", as_version=4)
    injected = tagged(executed, "injected-parameters")
    assert len(injected) == 1 and "n_train = 4" in injected[0].source
    assert all(c.execution_count for c in executed.cells if c.cell_type == "code")

    printed = capsys.readouterr().out
    assert "failed at cell" in printed and re.search(r"conv1d\.ipynb +ok", printed)
    markdown = (out / "report.md").read_text()
    assert "## Failures" in markdown and "RuntimeError: on purpose" in markdown
    page = status.read_text()
    assert f"{{doc}}`{SIGNALS}/conv1d`" in page and "| torch |" in page


@pytest.mark.slow
def test_ctrl_c_keeps_finished_outputs_and_reports_the_rest(failing_book, tmp_path, monkeypatch):
    real_run_job = runner.run_job
    calls = []

    def interrupt_second(job, progress=True):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run_job(job, progress)

    monkeypatch.setattr(runner, "run_job", interrupt_second)
    out = tmp_path / "out"
    argv = ["run", "10", "--book", str(failing_book), "--preset", "tiny", "--output-dir",
            str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 130
    report = json.loads((out / "report.json").read_text())
    assert [n["status"] for n in report["notebooks"]] == ["ok", "interrupted", "not run"]
    assert (out / SIGNALS / "conv1d.ipynb").is_file()


def test_bad_command_lines_stop_before_running(book, tmp_path, capsys):
    bad = (
        ["run", "--book", str(tmp_path / "none")],
        ["run", "--book", str(book), "11"],
        ["run", "--book", str(book), "-p", "x", "1"],
        ["run", "--book", str(book), "--preset", "nope"],
    )
    for argv in bad:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no book folder" in err and "no chapter '11'" in err and "preset 'nope'" in err


def test_the_status_page_covers_every_notebook_the_runner_runs():
    """book/status.md is written by `mlnotes run --status-page`: rerun it when notebooks change."""
    page = (BOOK / "status.md").read_text()
    for path in runner.find_notebooks(BOOK):
        row = f"| {{doc}}`{path.parent.name}/{path.stem}` |"
        assert row in page, f"book/status.md has no row for {path}: rerun `mlnotes run`"
    assert "| torch |" in page and "mlnotes run --preset" in page
