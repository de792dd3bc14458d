"""The book builds with warnings as errors, and its runnable snippets run.

The build goes to a temporary folder, so `make test` never touches the reader's _build/.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import html_check
import nbformat
import pytest
import yaml

from mlnotes.runner import book_notebooks

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in (ROOT / "book").rglob("*.md") if "_build" not in p.parts)


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """Build both editions once for this module's tests, as `make book` does; return
    ({language: process result}, html folder)."""
    out = tmp_path_factory.mktemp("book")
    results = {
        language: subprocess.run(
            [sys.executable, "book/_ext/editions.py", language, "--build-dir", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        for language in ("en", "zh_CN")
    }
    for doctrees in out.glob(".doctrees-*"):
        shutil.rmtree(doctrees)
    return results, out / "html"


@pytest.mark.slow
@pytest.mark.parametrize("edition", ["", "zh_CN"])
def test_book_builds_without_warnings(build, edition):
    results, html = build
    result = results[edition or "en"]
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    chapter = (html / edition / "book" / "01-logistic-regression" / "index.html").read_text()
    # the figures glued from the notebooks arrived, with their alt text, and no glue key is left
    images = re.findall(r'<img alt="([^"]*)" src="([^"]*)"', chapter)
    assert len(images) >= 5
    for alt, src in images:
        assert not alt.endswith(".png"), f"an image without alt text: {src}"
        assert (html / edition / "book" / "01-logistic-regression" / src).resolve().is_file()
    assert "breast-cancer.ipynb::" not in chapter


@pytest.mark.slow
def test_every_notebook_page_offers_colab_and_binder(build):
    _, html = build
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    repo, branch = config["url"].removeprefix("https://github.com/"), config["branch"]
    pages = [Path(p).with_suffix(".ipynb") for p in html_check.toc_pages()]
    notebooks = [p.as_posix() for p in pages if (ROOT / p).is_file()]
    assert notebooks  # every notebook is in the toc: tests/test_notebooks.py
    for source in notebooks:
        page = (html / source).with_suffix(".html").read_text()
        page += (html / "zh_CN" / source).with_suffix(".html").read_text()
        colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{source}"
        binder = f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=tree/{source}"
        assert page.count(f'href="{colab}"') == page.count(f'href="{binder}"') == 2, source


def need_browser():
    """Skip without Chromium, unless MLNOTES_REQUIRE_BROWSER is set (CI sets it: fail there)."""
    if not html_check.browser_available():
        if os.environ.get("MLNOTES_REQUIRE_BROWSER"):
            pytest.fail("MLNOTES_REQUIRE_BROWSER is set but chromium/chromedriver are missing")
        pytest.skip("needs chromium and chromium-driver (Debian packages)")


@pytest.mark.slow
def test_book_renders_in_a_real_browser(build, tmp_path):
    need_browser()
    _, html = build
    screenshot = ROOT / "_build" / "screenshot.png"  # kept for review, next to `make book`'s,
    # with the Chinese edition's screenshot-zh_CN.png
    problems = html_check.check_html(html, screenshot)
    assert not problems, "\n".join(problems)
    assert screenshot.stat().st_size > 10_000
    assert screenshot.with_stem("screenshot-zh_CN").stat().st_size > 10_000


@pytest.mark.slow
def test_the_browser_check_reports_broken_pages_of_either_edition(build, tmp_path):
    need_browser()
    _, html = build
    broken = tmp_path / "html"
    shutil.copytree(html, broken)
    chapter = broken / "book" / "01-logistic-regression" / "index.html"
    image = re.search(r'<img alt="[^"]*" src="([^"]*)"', chapter.read_text()).group(1)
    (chapter.parent / image).unlink()
    text = chapter.read_text().replace(
        "</body>", "<script>console.error('on purpose')</script></body>"
    )
    chapter.write_text(text.replace("tex-chtml.js", "no-mathjax.js"))
    # a Chinese page left in English
    english = (html / "book" / "02-softmax-regression" / "index.html").read_text()
    (broken / "zh_CN" / "book" / "02-softmax-regression" / "index.html").write_text(english)
    problems = "\n".join(html_check.check_html(broken))
    assert "image did not load" in problems and "on purpose" in problems
    assert "MathJax rendered nothing" in problems
    assert "02-softmax-regression/index.html: not Chinese" in problems
    assert "02-softmax-regression/index.html: no link to its other edition" in problems


def python_snippets():
    for page in PAGES:
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
            yield pytest.param(block, id=f"{page.relative_to(ROOT)}#{i}")


STAMP_EXTENSION = """from docutils import nodes
from extension_metadata import extension_metadata

def stamp(app, doctree):
    doctree += nodes.paragraph(text="stamped {}")

def setup(app):
    app.connect("doctree-read", stamp)
    return extension_metadata(__file__)
"""


def test_an_extension_change_reaches_pages_that_did_not_change(tmp_path):
    """Our extensions declare a digest of their source as env_version, so an incremental
    build re-reads every page when their code changes (it would keep the old doctrees)."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    shutil.copy(ROOT / "book" / "_ext" / "extension_metadata.py", src)
    (src / "conf.py").write_text(
        "import os, sys\nsys.path.insert(0, os.path.dirname(__file__))\nextensions = ['stamp']\n"
    )
    (src / "index.rst").write_text("Page\n====\n\nText.\n")
    for version in ("one", "two"):
        (src / "stamp.py").write_text(STAMP_EXTENSION.format(version))
        subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(src), str(out)],
                       check=True, timeout=120)  # fmt: skip
        assert f"stamped {version}" in (out / "index.html").read_text()


@pytest.mark.parametrize("code", list(python_snippets()))
def test_python_snippets_in_pages_run(code, tmp_path, monkeypatch):
    """Exercise solutions run as printed (their own asserts check their claims)."""
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<snippet>", "exec"), {"__name__": "__snippet__"})


def glossary_entries():
    text = (ROOT / "book" / "glossary.md").read_text()
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    entries, terms = [], []
    for line in body.splitlines():
        if line.startswith("  "):  # a definition, indented under its terms
            entries.append((terms, line.strip()))
            terms = []
        elif line.strip() and not line.startswith(":"):
            terms.append(line.strip())
    return entries


def test_every_glossary_entry_gives_the_chinese_term_then_a_definition():
    entries = glossary_entries()
    assert len(entries) >= 25
    for terms, definition in entries:
        assert terms, f"a definition without a term: {definition}"
        chinese = re.match(r"\*\*([^*]+)\*\*.* · (.+)", definition)
        assert chinese, f"{terms}: expected '**中文** · definition', got {definition!r}"
        assert re.search(r"[\u4e00-\u9fff]", chinese.group(1)), f"{terms}: no Chinese term"
        assert len(chinese.group(2).split()) >= 5, f"{terms}: definition too short"


MARKDOWN_CELLS = [
    (notebook, cell.source)
    for notebook in book_notebooks(ROOT / "book")
    for cell in nbformat.read(notebook, as_version=4).cells
    if cell.cell_type == "markdown"
]


@pytest.mark.parametrize(
    "name, text",
    [(p.name, p.read_bytes().decode()) for p in PAGES]
    + [(n.name, source) for n, source in MARKDOWN_CELLS],
)
def test_no_control_characters_in_prose(name, text):
    # "\text" or "\frac" written in a non-raw Python string become a TAB or a form feed
    found = sorted({repr(c) for c in text if ord(c) < 32 and c != "\n"})
    assert not found, f"{name}: control characters {found}"
