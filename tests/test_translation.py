"""The Chinese edition is never out of date: every message of the English sources has a checked
translation that compiles, keeps its markup and uses the glossary's terms.

An English edit changes a message; `make catalogues` then marks its old translation fuzzy (or
adds it untranslated), and these tests fail until the Chinese is updated (CONTRIBUTING.md,
"Translating").
"""

import io
import subprocess
import sys
from pathlib import Path

import po_check
import polib
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = po_check.catalogues()


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    """The messages of today's English sources: the gettext builder's .pot files."""
    out = tmp_path_factory.mktemp("gettext")
    command = ["book/_ext/editions.py", "en", "--builder", "gettext", "--build-dir", str(out)]
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "gettext"


@pytest.mark.slow
def test_every_message_of_the_sources_is_translated(templates):
    pots = sorted(templates.rglob("*.pot"))
    assert len(pots) >= len(CATALOGUES) > 40  # a catalogue per page
    missing = []
    for pot in pots:
        po = po_check.CATALOGUES / pot.relative_to(templates).with_suffix(".po")
        done = {e.msgid for e in polib.pofile(str(po)) if e.translated()} if po.is_file() else set()
        missing += [
            f"{po.relative_to(ROOT)}: {e.msgid[:60]!r}"
            for e in polib.pofile(str(pot))
            if e.msgid not in done and e.msgid  # "" is the catalogue's header
        ]
    assert not missing, f"{len(missing)} messages to translate (make catalogues):\n" + "\n".join(
        missing[:20]
    )


@pytest.mark.slow
def test_no_catalogue_is_left_for_a_page_that_is_gone(templates):
    pages = {p.relative_to(templates).with_suffix("") for p in templates.rglob("*.pot")}
    gone = [
        p for p in CATALOGUES if p.relative_to(po_check.CATALOGUES).with_suffix("") not in pages
    ]
    assert not gone, gone


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(po_check.CATALOGUES)))
def test_catalogue_compiles(po):
    # the reader and writer Sphinx uses to turn .po into the .mo files it builds with
    with po.open("rb") as f:
        catalog = read_po(f, abort_invalid=True)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    assert len(catalog) > 0 and buffer.tell() > 0


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(po_check.CATALOGUES)))
def test_translations_are_complete_keep_markup_and_use_glossary_terms(po):
    problems = po_check.catalogue_problems(po)
    assert not problems, "\n".join(problems[:30])


def test_checker_finds_lost_markup_and_wrong_terms():
    terms = {"weight": "权重", "logistic regression": "逻辑回归"}
    msgid = "The {term}`weight` of logistic regression is $w$, see `fit` and [docs](https://x.org)."
    good = "逻辑回归的{term}`权重 <weight>`是 $w$，见 `fit` 与[文档](https://x.org)。"
    assert po_check.markup_differences(msgid, good) == []
    assert po_check.term_problems(msgid, good, terms) == []
    lost = "逻辑回归的权重是 w，见 fit 与文档。"
    kinds = {problem.split(":")[0] for problem in po_check.markup_differences(msgid, lost)}
    assert kinds == {"roles", "maths", "code", "links"}
    assert po_check.term_problems(msgid, "对数几率回归的{term}`权重 <weight>`", terms) == [
        "term 'logistic regression' is '逻辑回归' in the glossary"
    ]
    assert po_check.term_problems("YOLO v2", "第二版 YOLO", {"YOLO": "YOLO 算法"}) == []
    fuzzy = polib.POEntry(msgid="a", msgstr="甲", flags=["fuzzy"])
    assert po_check.entry_problems(fuzzy, terms) == ["fuzzy"]
    assert po_check.entry_problems(polib.POEntry(msgid="a"), terms) == ["untranslated"]
    title = polib.POEntry(msgid="9. Style", msgstr="9. 风格")
    problems = po_check.entry_problems(title, terms)
    assert problems == ["starts a numbered list: escape its dot (9\\.)"]
