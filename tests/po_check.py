"""Check the Chinese edition's gettext catalogues (locales/zh_CN/LC_MESSAGES/**/*.po).

    python tests/po_check.py [PO_FILE ...]      (default: every catalogue)

For every message it reports what would make the Chinese book wrong or out of date:

- untranslated (empty ``msgstr``) or fuzzy (an English edit made the old translation stale);
- markup that the translation lost or changed: the MyST roles and their targets
  (``{term}`weight``` may become ``{term}`权重 <weight>```, the target stays), inline maths
  ``$...$`` and inline code, which stay verbatim, and link targets;
- glossary terms (book/glossary.md) whose Chinese form the translation does not use;
- a translation that Markdown reads as a numbered list (Sphinx would drop it without a word).

tests/test_translation.py runs the same checks; this script prints them for a translator.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"

ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
EXPLICIT_TITLE = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)
MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$")
CODE = re.compile(r"(``?)(?!`)(.+?)(?<!`)\1(?!`)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
NUMBERED = re.compile(r"\d+[.)] ")


def markup(text: str) -> dict[str, Counter]:
    """The markup of one message that a translation must keep, as multisets per kind."""
    roles = Counter()
    for role, content in ROLE.findall(text):
        explicit = EXPLICIT_TITLE.match(content)
        roles[(role, explicit.group(2) if explicit else content)] += 1
    rest = ROLE.sub(" ", text)
    code = Counter(body for _, body in CODE.findall(rest))
    rest = CODE.sub(" ", rest)
    return {
        "roles": roles,
        "code": code,
        "maths": Counter(MATH.findall(rest)),
        "links": Counter(LINK.findall(rest)),
    }


def markup_differences(msgid: str, msgstr: str) -> list[str]:
    """What the translation ``msgstr`` lost or added of ``msgid``'s markup (empty: none)."""
    problems = []
    source, target = markup(msgid), markup(msgstr)
    for kind in source:
        missing, extra = source[kind] - target[kind], target[kind] - source[kind]
        if missing or extra:
            problems.append(f"{kind}: missing {sorted(missing)} extra {sorted(extra)}")
    return problems


def entry_problems(entry: polib.POEntry, terms: dict[str, str]) -> list[str]:
    """Every problem of one catalogue entry."""
    if entry.obsolete:
        return []
    if "fuzzy" in entry.flags:
        return ["fuzzy"]
    if not entry.msgstr:
        return ["untranslated"]
    if entry.msgstr == entry.msgid:  # kept as is: display maths, a name, numbers
        return []
    problems = markup_differences(entry.msgid, entry.msgstr)
    problems += term_problems(entry.msgid, entry.msgstr, terms)
    # Sphinx parses a translation alone and drops it, silently, unless it is one paragraph:
    # "9. 神经风格迁移" would be a numbered list, "9\\. 神经风格迁移" is the title
    if NUMBERED.match(entry.msgstr):
        problems.append("starts a numbered list: escape its dot (9\\.)")
    return problems


def catalogue_problems(path: Path) -> list[str]:
    """``"file:line: problem | msgid"`` for every problem of one ``.po`` file."""
    out, terms = [], glossary_terms()
    for entry in polib.pofile(str(path)):
        for problem in entry_problems(entry, terms):
            where = f"{path.relative_to(ROOT)}:{entry.linenum}"
            out.append(f"{where}: {problem} | {entry.msgid[:70]!r}")
    return out


# an entry: one or more lines of English terms, then "  **中文** · definition"
GLOSSARY_ENTRY = re.compile(r"^((?:\S[^\n]*\n)+)  \*\*([^*]+)\*\*", re.MULTILINE)


def glossary_terms() -> dict[str, str]:
    """The glossary's English terms (with their synonyms) and their Chinese form (the bold one
    of each entry)."""
    text = (ROOT / "book" / "glossary.md").read_text()
    return {
        english: chinese
        for lines, chinese in GLOSSARY_ENTRY.findall(text)
        for english in lines.splitlines()
    }


# English glossary terms with everyday meanings too ("a positive number", "recall that"): their
# Chinese form is required where the text marks them as terms, {term}`recall`, not everywhere.
EVERYDAY_WORDS = {
    "accuracy",
    "anchor",
    "bias",
    "encoding",
    "epoch",
    "filter",
    "head",
    "kernel",
    "landmark",
    "margin",
    "negative",
    "positive",
    "precision",
    "recall",
    "saturation",
    "trunk",
}


def displayed_text(msgid: str) -> str:
    """The prose of a message as a reader sees it: roles as their titles, no code, maths or URLs."""

    def title(match: re.Match) -> str:
        explicit = EXPLICIT_TITLE.match(match.group(2))
        return explicit.group(1) if explicit else match.group(2)

    text = ROLE.sub(title, msgid)
    return LINK.sub("]", MATH.sub(" ", CODE.sub(" ", text)))


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def term_problems(msgid: str, msgstr: str, terms: dict[str, str]) -> list[str]:
    """Glossary terms of ``msgid`` whose Chinese form ``msgstr`` lacks: every {term} role's target,
    and every term written in the prose (longest first, so that "multinomial logistic
    regression" is not also "logistic regression"), except the everyday words."""
    wanted = [target for role, target in markup(msgid)["roles"].elements() if role == "term"]
    prose = displayed_text(msgid)
    for english in sorted(terms, key=len, reverse=True):
        if english in EVERYDAY_WORDS:
            continue
        pattern = rf"(?<![\w-]){re.escape(english)}(?:s|es)?(?![\w-])"
        prose, found = re.subn(pattern, " ", prose, flags=re.IGNORECASE)
        wanted += [english] * bool(found)
    return [
        f"term {english!r} is {terms[english]!r} in the glossary"
        for english in dict.fromkeys(wanted)
        if english in terms and not _uses_term(msgstr, english, terms[english])
    ]


def _uses_term(msgstr: str, english: str, chinese: str) -> bool:
    # "捷径连接 / 跳跃连接" offers two forms; a name stays a name: "YOLO 算法" may be YOLO
    forms = chinese.split("/") + [english] * (_compact(english) in _compact(chinese))
    return any(_compact(form) in _compact(msgstr) for form in forms)


def catalogues() -> list[Path]:
    return sorted(CATALOGUES.rglob("*.po"))


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or catalogues()
    problems = [p for path in paths for p in catalogue_problems(path)]
    print("\n".join(problems) or f"{len(paths)} catalogue(s): no problem")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
