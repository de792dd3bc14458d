"""The book's two editions, English and Chinese, built from the same sources.

The Chinese edition is the English book translated through Sphinx's gettext catalogues
(locales/zh_CN/LC_MESSAGES, CONTRIBUTING.md "Translating"). As a Sphinx extension this module puts
a link to the same page in the other edition in every page's header (and a ``rel="alternate"``
link for search engines). As a script it builds one edition:

    python book/_ext/editions.py en|zh_CN [--builder gettext]

English goes to ``_build/html``, Chinese to ``_build/html/zh_CN``, so that the two editions of a
page are ``X.html`` and ``zh_CN/X.html``. jupyter-book 1.x's command line cannot pass Sphinx a
language (jupyter-book issue #1791), so the script calls the function that ``jupyter-book build .
-W -n --keep-going`` calls, ``jupyter_book.sphinx.build_sphinx``, with the same options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from extension_metadata import extension_metadata
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain

ROOT = Path(__file__).resolve().parents[2]
# language -> (the label of its link, its folder under _build/html, its title)
EDITIONS = {
    "en": ("English", "", None),
    "zh_CN": ("中文", "zh_CN", "mlnotes：深度学习，推导与检验"),
}


def _edition(config: Config) -> str:
    return config.language if config.language in EDITIONS else "en"


def add_switch(app: Sphinx, config: Config) -> None:
    config.templates_path.append(str(Path(__file__).parent / "templates"))
    config.html_static_path.append(str(Path(__file__).parent / "static"))
    app.add_css_file("editions.css")
    header = config.html_theme_options.setdefault("article_header_end", [])
    if isinstance(header, str):
        header = [name.strip() for name in header.split(",")]
    config.html_theme_options["article_header_end"] = [
        "language-switch.html",
        *(header or ["article-header-buttons.html"]),
    ]


def other_editions(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """``context["other_editions"]``: (language, label, relative url) of this page elsewhere."""
    here = _edition(app.config)
    depth = pagename.count("/") + (1 if EDITIONS[here][1] else 0)
    to_root = "../" * depth  # from this page to _build/html
    links = []
    for language, (label, folder, _) in EDITIONS.items():
        if language != here:
            url = f"{to_root}{folder + '/' if folder else ''}{pagename}.html"
            hreflang = language.replace("_", "-")
            links.append((hreflang, label, url))
            context["metatags"] = context.get("metatags", "") + (
                f'\n<link rel="alternate" hreflang="{hreflang}" href="{url}" />'
            )
    context["other_editions"] = links


class TranslateTocCaptions(SphinxTransform):
    """Translate the captions of the toctrees (the book's parts). sphinx-external-toc inserts
    the toctrees (priority 100) after Sphinx has translated the page (Locale, priority 20), so
    the captions, which the gettext builder extracts, would stay English."""

    default_priority = 101

    def apply(self, **kwargs) -> None:
        if _edition(self.config) == "en":
            return
        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        catalog, _ = init_locale(dirs, self.config.language, domain)
        for toctree in self.document.findall(addnodes.toctree):
            if toctree.get("caption"):
                toctree["caption"] = toctree["rawcaption"] = catalog.gettext(toctree["caption"])


def setup(app: Sphinx) -> dict:
    app.add_transform(TranslateTocCaptions)
    app.connect("config-inited", add_switch)
    app.connect("html-page-context", other_editions)
    return extension_metadata(__file__)


def build(language: str, builder: str = "html", build_dir: Path = ROOT / "_build") -> int:
    """Build one edition into ``build_dir/builder[/folder]`` with -W -n --keep-going, as
    ``make book`` does; return Sphinx's exit status."""
    from jupyter_book.sphinx import build_sphinx

    _, folder, title = EDITIONS[language]
    out = Path(build_dir) / builder / folder
    overrides = {
        "external_toc_path": str(ROOT / "_toc.yml"),
        "latex_individualpages": False,
        "nitpicky": True,
    }
    if language != "en":
        overrides |= {"language": language, "html_title": title}
    return build_sphinx(
        ROOT,
        out,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides,
        doctreedir=Path(build_dir) / f".doctrees-{builder}-{language}",
        builder=builder,
        warningiserror=True,
        keep_going=True,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("language", choices=sorted(EDITIONS))
    parser.add_argument("--builder", default="html", help="html (default) or gettext")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "_build")
    args = parser.parse_args()
    sys.exit(build(args.language, args.builder, args.build_dir))
