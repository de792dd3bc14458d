"""A ``glued-figure`` directive: a numbered figure, with caption and alt text, whose image is
an output glued (``myst_nb.glue``) in another notebook of the book.

MyST-NB pastes outputs across pages only with ``{glue:any}`` + ``:doc:``, which gives a bare image
(no caption, alt text = file name). The chapter pages need real figures drawn by the tested
notebooks, so this wraps the same pending glue reference in a figure and sets the alt text once
MyST-NB has replaced the reference by the image. Caption and alt text are messages of the page,
translated in the Chinese edition like its paragraphs (book/_ext/editions.py).

    ```{glued-figure} fig_sigmoid
    :doc: sigmoid-loss-gradients.ipynb
    :alt: An S-shaped curve rising from 0 to 1 ...
    :name: fig-ch1-sigmoid

    The caption, in MyST Markdown.
    ```
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from extension_metadata import extension_metadata
from myst_nb.ext.glue.utils import create_pending_glue_ref
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective


class GluedFigure(SphinxDirective):
    required_arguments = 1  # the glue key
    has_content = True  # the caption
    option_spec = {
        "doc": directives.unchanged_required,
        "alt": directives.unchanged_required,
        "name": directives.unchanged,
        "width": directives.length_or_percentage_or_unitless,
    }

    def run(self) -> list[nodes.Node]:
        for option in ("doc", "alt"):
            if option not in self.options:
                raise self.error(f"glued-figure needs the :{option}: option")
        ref = create_pending_glue_ref(
            self.state.document,
            self.env.docname,
            self.lineno,
            self.options["doc"],
            self.arguments[0],
        )
        figure = nodes.figure(classes=["glued-figure"])
        figure["glued_width"] = self.options.get("width")
        figure += ref
        # the alt text travels as a paragraph, so that gettext extracts and translates it
        alt = nodes.paragraph(self.options["alt"], self.options["alt"], classes=["glued-alt"])
        self.set_source_info(alt)
        figure += alt
        if self.content:
            holder = nodes.Element()
            self.state.nested_parse(self.content, self.content_offset, holder)
            first = holder[0]
            if not isinstance(first, nodes.paragraph):
                raise self.error("the caption of a glued-figure must start with a paragraph")
            caption = nodes.caption(first.rawsource, "", *first.children)
            self.set_source_info(caption)  # a node without a source is never translated
            figure += caption
            if len(holder) > 1:
                figure += nodes.legend("", *holder[1:])
        self.add_name(figure)
        self.set_source_info(figure)
        return [figure]


class SetGluedFigureAlt(SphinxPostTransform):
    """After MyST-NB's ReplacePendingGlueReferences (priority 5) put the image in place."""

    default_priority = 6

    def run(self, **kwargs) -> None:
        if self.app.builder.name == "gettext":  # it extracts the alt paragraphs as messages
            return
        for alt in list(self.document.findall(_is_alt)):
            figure = alt.parent
            for image in figure.findall(nodes.image):
                image["alt"] = alt.astext()
                if figure["glued_width"]:
                    image["width"] = figure["glued_width"]
            figure.remove(alt)


def _is_alt(node: nodes.Node) -> bool:
    return isinstance(node, nodes.paragraph) and "glued-alt" in node["classes"]


def setup(app: Sphinx) -> dict:
    app.add_directive("glued-figure", GluedFigure)
    app.add_post_transform(SetGluedFigureAlt)
    return extension_metadata(__file__)
