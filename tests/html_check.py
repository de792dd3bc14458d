"""Check the built book in a real browser: headless Chromium through Selenium.

    python tests/html_check.py [_build/html] [--screenshot FILE]

Serves the HTML folder on localhost and opens every page of the table of contents, in both
editions (English in the folder, Chinese in its ``zh_CN/``). On each page: no console errors,
every image loaded, where the page has maths MathJax rendered it (its output elements exist and
no raw ``$$``/``\\(`` source is left), and the header links the same page in the other edition.
Each edition's search finds a word of its language. A Chinese page is in fact Chinese (a third or
more of its prose letters are CJK) and its font has CJK glyphs (not the blank boxes of a missing
font). On each landing page the navigation lists every chapter. Saves a screenshot of a chapter
page of each edition for review. Exit status 1 with one line per problem when anything fails.

Needs Debian's ``chromium`` and ``chromium-driver`` (or any Chrome + chromedriver on PATH).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import unquote

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE_TIMEOUT_S = 20
MATHJAX_TIMEOUT_S = 30
# the editions' folders under the HTML folder and their <html lang> (book/_ext/editions.py)
EDITIONS = {"": "en", "zh_CN/": "zh-CN"}
SEARCH_WORD = {"": "convolution", "zh_CN/": "卷积"}  # a word every edition must find
MIN_CJK_SHARE = 1 / 3  # of a Chinese page's prose letters (names, units and table cells stay
# Latin: the status page, all tables, has the least, about 1/2; an English page has none)


def browser_available() -> bool:
    """Whether chromedriver and a Chromium/Chrome are installed."""
    return bool(shutil.which("chromedriver")) and any(
        shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
    )


def toc_files() -> list[str]:
    """The files of the table of contents (paths without suffix), the landing page first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            files.extend([node["file"]] if "file" in node else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return files


def toc_pages() -> list[str]:
    """The HTML paths of the table of contents' files, the landing page first."""
    return [f"{Path(f).with_suffix('')}.html" for f in toc_files()]


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """A quiet static server of ``folder`` on a free localhost port, in a daemon thread."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def chromium():
    """A headless Chromium driven by chromedriver, logging the browser console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,1600"):  # fmt: skip
        options.add_argument(flag)
    binary = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )
    if binary:
        options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


BROKEN_IMAGES_JS = """return Array.from(document.images)
    .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));"""
MATH_JS = "return document.querySelectorAll('.math, span.math, div.math').length;"
RENDERED_JS = "return document.querySelectorAll('mjx-container').length;"
EDITION_LINKS_JS = "return Array.from(document.querySelectorAll('a.mlnotes-edition'), a => a.href);"
# the article's prose: without code, maths, the notebooks' outputs and the references (whose
# titles stay in their language)
PROSE_JS = """const article = document.querySelector('article').cloneNode(true);
    const notProse = 'pre, code, .math, mjx-container, .cell_output, .citation, script, style';
    article.querySelectorAll(notProse).forEach(e => e.remove());
    return article.textContent;"""
CAPTIONS_JS = (
    "return Array.from(document.querySelectorAll('.bd-links p.caption'), p => p.textContent);"
)
# a font without CJK glyphs draws each as the same blank box as an unassigned code point
GLYPH_WIDTHS_JS = """const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = '32px ' + getComputedStyle(document.querySelector('article')).fontFamily;
    return [ctx.measureText('卷积池化').width, ctx.measureText('\\u{10FFFD}'.repeat(4)).width];"""


def load(driver, url: str) -> None:
    """Open ``url`` and wait until it is parsed: on a busy machine chromedriver's ``get`` has
    returned while the page was still loading, and a half-parsed navigation lacked chapters."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)

    def parsed(d) -> bool:  # the new page, not the one before it, and all of it
        return (
            unquote(d.current_url) == url
            and d.execute_script("return document.readyState") == "complete"
        )

    WebDriverWait(driver, PAGE_TIMEOUT_S).until(parsed)


def check_page(driver, url: str) -> list[str]:
    """Load one page; return its problems (empty when it is fine)."""
    from selenium.webdriver.support.ui import WebDriverWait

    load(driver, url)
    problems = [
        f"{url}: image did not load: {src}" for src in driver.execute_script(BROKEN_IMAGES_JS)
    ]
    if driver.execute_script(MATH_JS):
        try:
            WebDriverWait(driver, MATHJAX_TIMEOUT_S).until(
                lambda d: d.execute_script(RENDERED_JS) > 0
            )
        except Exception:  # selenium's TimeoutException: the maths never rendered
            problems.append(f"{url}: maths present but MathJax rendered nothing")
    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE":
            problems.append(f"{url}: console error: {entry['message']}")
    return problems


def _cjk(text: str) -> int:
    return sum("\u4e00" <= c <= "\u9fff" for c in text)


def check_edition(driver, url: str, other_url: str, lang: str) -> list[str]:
    """The page just loaded links ``other_url``; a Chinese one is Chinese, in a CJK font."""
    problems = []
    if other_url not in driver.execute_script(EDITION_LINKS_JS):
        problems.append(f"{url}: no link to its other edition {other_url}")
    if driver.execute_script("return document.documentElement.lang") != lang:
        problems.append(f"{url}: <html lang> is not {lang}")
    if lang.startswith("zh"):
        prose = driver.execute_script(PROSE_JS)
        cjk = _cjk(prose)
        latin = sum(c.isascii() and c.isalpha() for c in prose)
        if cjk < MIN_CJK_SHARE * (cjk + latin):
            problems.append(f"{url}: not Chinese: {cjk} CJK characters, {latin} Latin letters")
        captions = driver.execute_script(CAPTIONS_JS)
        problems += [
            f"{url}: navigation caption not Chinese: {c!r}" for c in captions if not _cjk(c)
        ]
        cjk_width, missing_width = driver.execute_script(GLYPH_WIDTHS_JS)
        if abs(cjk_width - missing_width) < 1:
            problems.append(f"{url}: no CJK font: Chinese characters drawn as blank boxes")
    return problems


def check_search(driver, base: str, word: str) -> list[str]:
    """The edition's search page finds pages for ``word``."""
    from selenium.webdriver.support.ui import WebDriverWait

    load(driver, f"{base}/search.html?q={word}")
    found = "return document.querySelectorAll('#search-results li').length;"
    try:
        WebDriverWait(driver, PAGE_TIMEOUT_S).until(lambda d: d.execute_script(found) > 0)
    except Exception:  # selenium's TimeoutException: no result ever appeared
        return [f"{base}/search.html: searching {word!r} finds nothing"]
    return []


def check_navigation(driver, base: str, pages: list[str]) -> list[str]:
    """The landing page's navigation links every chapter page of the table of contents."""
    load(driver, f"{base}/{pages[0]}")
    links = driver.execute_script(
        "return Array.from(document.querySelectorAll('nav.bd-links a')).map(a => a.href);"
    )
    linked = {link.split("#")[0] for link in links}
    chapters = [p for p in pages if p.endswith("/index.html")]
    return [f"navigation has no link to {p}" for p in chapters if f"{base}/{p}" not in linked]


def check_html(html: Path, screenshot: Path | None = None) -> list[str]:
    """Every check on both editions of the built book at ``html``; returns the problems found.
    The screenshots are ``screenshot`` (English) and its ``-zh_CN`` sibling."""
    pages = [folder + page for folder in EDITIONS for page in toc_pages()]
    missing = [p for p in pages if not (html / p).is_file()]
    if missing:
        return [f"not built: {p}" for p in missing]
    server = serve(html)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    driver = chromium()
    try:
        problems, edition = [], toc_pages()
        for folder, lang in EDITIONS.items():
            root = f"{base}/{folder}".rstrip("/")
            problems += check_navigation(driver, root, edition)
            problems += check_search(driver, root, SEARCH_WORD[folder])
            other = next(f for f in EDITIONS if f != folder)
            for page in edition:
                url = f"{base}/{folder}{page}"
                problems += check_page(driver, url)
                problems += check_edition(driver, url, f"{base}/{other}{page}", lang)
            if screenshot is not None:
                chapter = next(p for p in edition if p.endswith("/index.html"))
                load(driver, f"{base}/{folder}{chapter}")
                name = screenshot.stem + (f"-{folder.rstrip('/')}" if folder else "")
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(screenshot.with_stem(name)))
    finally:
        driver.quit()
        server.shutdown()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("html", nargs="?", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--screenshot", type=Path, default=ROOT / "_build" / "screenshot.png")
    args = parser.parse_args(argv)
    if not browser_available():
        parser.error(
            "needs chromium and chromedriver (Debian: apt install chromium chromium-driver)"
        )
    problems = check_html(args.html, args.screenshot)
    for problem in problems:
        print(problem)
    print(
        f"{len(toc_pages())} pages checked in {len(EDITIONS)} editions, {len(problems)} "
        f"problems; screenshots {args.screenshot} and its -zh_CN sibling"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
