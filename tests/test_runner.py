"""`mlnotes run`: the plan is checked before anything runs; notebooks run as papermill copies,
failures and Ctrl-C are reported, and the report, the status page and the exit status say so.

The slow tests run the runner on real notebooks of the book, copied into a temporary book with
a tiny preset, one copy made to fail on purpose.
"""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook, new_output

from mlnotes import runner
from mlnotes.run import main

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CONV = "10-1d-3d-convolution"
TINY = {"n_train": 64, "n_test": 32, "epochs": 1}  # parameters of both chapter-10 notebooks


def tagged(nb, tag):
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


# --- choosing notebooks and checking the plan --------------------------------------------------


def test_find_notebooks_lists_exactly_the_notebooks_with_a_parameters_cell():
    brute = [p for p in sorted(BOOK.glob("*/*.ipynb")) if tagged(nbformat.read(p, 4), "parameters")]
    assert runner.find_notebooks(BOOK) == brute and brute


def test_chapters_are_named_by_number_folder_or_notebook():
    by_number = runner.select_notebooks(BOOK, ["10"])
    assert [p.parent.name for p in by_number] == [CONV, CONV]
    assert runner.select_notebooks(BOOK, ["10"]) == runner.select_notebooks(BOOK, [CONV])
    one = BOOK / CONV / "conv1d-signals.ipynb"
    assert runner.select_notebooks(BOOK, [str(one)]) == [one]
    both = runner.select_notebooks(BOOK, ["10", "1"])  # book order, whatever the order asked
    assert [p.parent.name[:2] for p in both] == ["01", "10", "10"]


@pytest.mark.parametrize(
    ("chapters", "message"),
    [
        (["11"], "no chapter '11'; chapters with parameters: 01-logistic-regression"),
        (["99-nothing"], "no chapter"),
        (["book/01-logistic-regression/sigmoid-loss-gradients.ipynb"], "with a parameters cell"),
    ],
)
def test_unknown_chapters_are_refused(chapters, message):
    with pytest.raises(ValueError, match=message):
        runner.select_notebooks(BOOK, chapters)


def conv_plan(tmp_path, presets, preset="ci", overrides=None, device=None):
    notebooks = runner.select_notebooks(BOOK, ["10"])
    return runner.plan(notebooks, presets, preset, overrides or {}, device, tmp_path, ROOT)


def test_plan_layers_defaults_preset_overrides_and_device(tmp_path):
    presets = {"ci": {}, "big": {f"book/{CONV}/conv1d-signals.ipynb": {"epochs": 30, "lr": 0.1}}}
    jobs = conv_plan(tmp_path, presets, "big", {"lr": 0.5, "length": 64}, device="cuda")
    first, second = jobs
    assert first.parameters == {"epochs": 30, "lr": 0.5, "length": 64, "device": "cuda"}
    assert second.parameters == {"lr": 0.5, "device": "cuda"}  # conv3d has no `length`
    assert first.output == tmp_path / CONV / "conv1d-signals.ipynb"
    assert conv_plan(tmp_path, presets)[0].parameters == {}  # ci: the defaults


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("nope", {}, "no preset 'nope'; the presets are bad, ci"),
        ("ci", {"epochz": 3}, "no chosen notebook has the parameter"),
        ("ci", {"epochs": "many"}, "parameter epochs expects int like its default 15, got 'many'"),
        ("ci", {"lr": True}, "parameter lr expects float"),
        ("ci", {"seed": 1.5}, "parameter seed expects int"),
        ("bad", {}, "preset 'bad' sets epochz, not a parameter"),
    ],
)
def test_plan_refuses_unknown_names_and_wrong_types(tmp_path, preset, overrides, message):
    presets = {"ci": {}, "bad": {f"book/{CONV}/conv3d-volumes.ipynb": {"epochz": 1}}}
    with pytest.raises(ValueError, match=message):
        conv_plan(tmp_path, presets, preset, overrides)


def test_an_int_may_replace_a_float_and_none_accepts_anything():
    runner.check_override(Path("x"), "lr", 0.1, 1)
    runner.check_override(Path("x"), "weights", None, "imagenet")
    with pytest.raises(ValueError, match="expects list"):
        runner.check_override(Path("x"), "shots", [1, 2], 5)


def test_notebook_parameters_reads_the_literal_defaults():
    params = runner.notebook_parameters(BOOK / CONV / "conv3d-volumes.ipynb")
    assert params["epochs"] == 8 and params["device"] == "cpu"
    assert (
        runner.notebook_parameters(BOOK / "01-logistic-regression/sigmoid-loss-gradients.ipynb")
        == {}
    )


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


# --- running -----------------------------------------------------------------------------------


@pytest.fixture
def tiny_book(tmp_path):
    """A copy of chapter 10 with a tiny preset, plus a copy of conv3d that fails on purpose."""
    book = tmp_path / "repo" / "book"
    shutil.copytree(BOOK / CONV, book / CONV)
    broken = nbformat.read(book / CONV / "conv3d-volumes.ipynb", as_version=4)
    position = broken.cells.index(tagged(broken, "parameters")[0]) + 2
    broken.cells.insert(position, new_code_cell("raise RuntimeError('on purpose')"))
    nbformat.write(broken, book / CONV / "failing.ipynb")
    tiny = {f"book/{CONV}/{name}": TINY for name in sorted(p.name for p in book.glob("*/*.ipynb"))}
    (book / "presets.yml").write_text(yaml.safe_dump({"ci": {}, "tiny": tiny}))
    return book


@pytest.mark.slow
def test_run_writes_copies_report_status_page_and_fails_for_the_broken_notebook(
    tiny_book, tmp_path, capsys
):
    sources = {p: p.read_bytes() for p in tiny_book.glob("*/*.ipynb")}
    out, status = tmp_path / "out", tmp_path / "status.md"
    argv = ["run", "--book", str(tiny_book), "--preset", "tiny", "--output-dir", str(out),
            "--status-page", str(status), "--no-progress"]  # fmt: skip
    assert main(argv) == 1  # one notebook failed
    assert {p: p.read_bytes() for p in tiny_book.glob("*/*.ipynb")} == sources  # untouched

    report = json.loads((out / "report.json").read_text())
    by_name = {Path(n["notebook"]).name: n for n in report["notebooks"]}
    assert [by_name[n]["status"] for n in sorted(by_name)] == ["ok", "ok", "failed"]
    failed = by_name["failing.ipynb"]
    assert failed["error"] == "RuntimeError: on purpose" and failed["failed_cell"] >= 1
    copy = nbformat.read(out / CONV / "failing.ipynb", as_version=4)
    errors = [o for c in copy.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert len(errors) == 1 and errors[0].evalue == "on purpose"  # the copy keeps the failure

    ok = by_name["conv1d-signals.ipynb"]
    assert ok["parameters"] == TINY and 0 < ok["seconds"] < 600
    assert set(ok["metrics"]) >= {"acc_cnn1d", "acc_linear1d"} and ok["metrics"]["acc_cnn1d"] <= 100
    executed = nbformat.read(out / CONV / "conv1d-signals.ipynb", as_version=4)
    injected = tagged(executed, "injected-parameters")
    assert len(injected) == 1 and "n_train = 64" in injected[0].source
    assert all(c.execution_count for c in executed.cells if c.cell_type == "code")

    printed = capsys.readouterr().out
    assert "failed at cell" in printed and "conv1d-signals.ipynb  ok" in printed
    markdown = (out / "report.md").read_text()
    assert "## Failures" in markdown and "RuntimeError: on purpose" in markdown
    page = status.read_text()
    assert f"{{doc}}`{CONV}/conv1d-signals`" in page and "| torch |" in page


@pytest.mark.slow
def test_ctrl_c_keeps_finished_outputs_and_reports_the_rest(tiny_book, tmp_path, monkeypatch):
    real_run_job = runner.run_job
    calls = []

    def interrupt_second(job, progress=True):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run_job(job, progress)

    monkeypatch.setattr(runner, "run_job", interrupt_second)
    out = tmp_path / "out"
    argv = ["run", "--book", str(tiny_book), "--preset", "tiny", "--output-dir", str(out),
            "--no-progress"]  # fmt: skip
    assert main(argv) == 130
    report = json.loads((out / "report.json").read_text())
    assert [n["status"] for n in report["notebooks"]] == ["ok", "interrupted", "not run"]
    assert (out / CONV / "conv1d-signals.ipynb").is_file()


def test_the_status_page_covers_every_notebook_the_runner_runs():
    """book/status.md is written by `mlnotes run --status-page`: rerun it when notebooks change."""
    page = (BOOK / "status.md").read_text()
    for path in runner.find_notebooks(BOOK):
        row = f"| {{doc}}`{path.parent.name}/{path.stem}` |"
        assert row in page, f"book/status.md has no row for {path}: rerun `mlnotes run`"
    assert "| torch |" in page and "mlnotes run --preset" in page


def test_bad_command_lines_stop_before_running(tmp_path, capsys):
    for argv in (["run", "--book", str(tmp_path / "none")], ["run", "11"], ["run", "-p", "x", "1"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    assert "no book folder" in capsys.readouterr().err
