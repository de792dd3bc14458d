"""Keep the pages' JavaScript free of console errors (the browser check in tests/ looks).

- Jupyter Book 1.x registers sphinx-thebe and sphinx-togglebutton a second time, so every
  page declared ``const THEBE_JS_URL`` twice ("Identifier has already been declared"). Each
  page keeps one copy of each script.
- pydata-sphinx-theme starts a first-time visitor in the theme mode "" and logs "Got invalid
  theme mode" until the template variable ``default_mode`` is set; "auto" follows the
  reader's system setting.
"""

from __future__ import annotations

from extension_metadata import extension_metadata
from sphinx.application import Sphinx
from sphinx.config import Config


def unique_scripts(app: Sphinx, pagename, templatename, context: dict, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # an inline script is its body (its filename is None or "", depending on who added it)
        body = getattr(script, "attributes", {}).get("body")
        key = ("body", body) if body else ("file", str(getattr(script, "filename", script)))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"][:] = unique


def default_theme_mode(app: Sphinx, config: Config) -> None:
    config.html_context.setdefault("default_mode", "auto")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", default_theme_mode)
    app.connect(
        "html-page-context", unique_scripts, priority=100
    )  # before any handler that ends the event
    return extension_metadata(__file__)
