"""A small document model for the lab report, rendered as one HTML page and as Markdown.

A document is a list of blocks, each a tuple whose first item says what it is:

    ("title", text)                   the page's title
    ("section", id, text)             a part of the report (h2)
    ("heading", text)                 a heading inside a part (h3)
    ("text", text)                    a paragraph
    ("note", text)                    a highlighted paragraph (quick version, failures)
    ("table", header, rows, caption)  a table; cells are text
    ("figure", path, caption)         an image beside the page (path relative to it)
    ("code", text, caption)           preformatted text (printed tables, equations)
    ("list", items, caption)          a bulleted list of sentences
    ("viewer", name, view, caption)   a 3-D view that turns with the mouse (lab.report.viewer), page only

Both renderers give the same content in the same order, so the Markdown
holds everything the page shows, but for the 3-D views that turn (the
Markdown points to the page for them; the static views are there too). The
page needs no network: its one script, the viewer, is written into it.
"""
import html
import json
import re

from lab.report.viewer import script

NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+(%| s|/\d+)?$")  # cells that are numbers are right-aligned

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.7rem; border-bottom: 2px solid #345; padding-bottom: .3rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 1px solid #bbb; padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { border: 1px solid #bbb; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
th { background: #eef1f5; }
figure { margin: 1rem 0; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption, .caption { font-size: .85rem; color: #555; margin-top: .2rem; }
code { font-size: .85rem; background: #f4f4f4; padding: 0 .2rem; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: .5rem; overflow-x: auto; font-size: .8rem; }
.note { background: #fff6d6; border-left: 4px solid #e0a800; padding: .5rem .8rem; }
.failed { background: #fde8e8; border-left: 4px solid #c62828; padding: .5rem .8rem; white-space: pre-wrap; }
nav ul { columns: 2; }
.viewer3d canvas { border: 1px solid #ddd; cursor: grab; touch-action: none; max-width: 100%; }
.viewer3d .legend span { display: inline-block; margin: 0 .5rem .2rem 0; font-size: .8rem; white-space: nowrap; }
.viewer3d .legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .2rem;
                      vertical-align: middle; border: 1px solid #888; }
.viewer3d button { font-size: .85rem; margin-right: .4rem; }
@media print { .viewer3d { display: none; } }
@media print { body { max-width: none; font-size: 10pt; } h2 { page-break-before: always; }
               pre, table { page-break-inside: avoid; } }
"""


def _caption_html(caption):
    """A caption: plain text, with `backquoted` parts as code."""
    parts = caption.split("`")
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def _cell(value):
    text = str(value)
    return f'<td class="num">{html.escape(text)}</td>' if NUMBER.match(text) else f"<td>{html.escape(text)}</td>"


def _html_table(header, rows, caption):
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
    cells = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    cap = f'<div class="caption">{_caption_html(caption)}</div>' if caption else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>{cap}"


def _html_note(text):
    cls = "failed" if text.startswith(("Failed", "Skipped", "Not run")) else "note"
    return f'<p class="{cls}">{_caption_html(text)}</p>'


def _html_viewer(name, view, caption):
    legend = "".join(f'<span><i style="background:{c}"></i>{html.escape(n)}</span>' for n, c in view["legend"])
    data = json.dumps(view).replace("</", "<\\/")
    return (f'<figure class="viewer3d" data-name="{html.escape(name)}"><canvas width="640" height="520"></canvas>'
            '<div><button class="reset" type="button">Reset view</button><button class="save" type="button">'
            'Save as PNG</button> drag the picture to turn it</div>'
            f'<div class="legend">{legend}</div><script type="application/json">{data}</script>'
            f"<figcaption>{_caption_html(caption)}</figcaption></figure>")


HTML = {  # block kind -> its HTML, given the block's items after the kind
    "title": lambda text: f"<h1>{html.escape(text)}</h1>",
    "section": lambda sid, text: f'<h2 id="{sid}">{html.escape(text)}</h2>',
    "heading": lambda text: f"<h3>{html.escape(text)}</h3>",
    "text": lambda text: f"<p>{_caption_html(text)}</p>",
    "note": _html_note,
    "table": _html_table,
    "figure": lambda path, caption: (f'<figure><a href="{html.escape(path)}" title="full size">'
                                     f'<img src="{html.escape(path)}" alt="{html.escape(caption)}"></a>'
                                     f"<figcaption>{_caption_html(caption)}</figcaption></figure>"),
    "code": lambda text, caption: f"<pre>{html.escape(text)}</pre>" + (
        f'<div class="caption">{_caption_html(caption)}</div>' if caption else ""),
    "list": lambda items, caption: "<ul>" + "".join(f"<li>{_caption_html(i)}</li>" for i in items) + "</ul>" + (
        f'<div class="caption">{_caption_html(caption)}</div>' if caption else ""),
    "viewer": _html_viewer,
}


def to_html(blocks):
    """The document as one self-contained HTML page (images referenced beside it)."""
    title = next((b[1] for b in blocks if b[0] == "title"), "Report")
    links = "".join(f'<li><a href="#{b[1]}">{html.escape(b[2])}</a></li>' for b in blocks if b[0] == "section")
    body = []
    for kind, *items in blocks:
        body.append(HTML[kind](*items))
        if kind == "title" and links:
            body.append(f"<nav><ul>{links}</ul></nav>")
    if any(b[0] == "viewer" for b in blocks):
        body.append(f"<script>\n{script()}</script>")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _md_cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(header, rows, caption):
    lines = ["| " + " | ".join(_md_cell(c) for c in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + (f"\n\n*{caption}*" if caption else "")


MARKDOWN = {  # block kind -> its Markdown
    "title": lambda text: f"# {text}",
    "section": lambda sid, text: f"## {text}",
    "heading": lambda text: f"### {text}",
    "text": lambda text: text,
    "note": lambda text: "> " + text.replace("\n", "\n> "),
    "table": _md_table,
    "figure": lambda path, caption: f"![{caption.replace('`', '')}]({path})\n\n*{caption}*",
    "code": lambda text, caption: f"```\n{text}\n```" + (f"\n\n*{caption}*" if caption else ""),
    "list": lambda items, caption: "\n".join(f"- {i}" for i in items) + (f"\n\n*{caption}*" if caption else ""),
    "viewer": lambda name, view, caption: f"*{caption} (This view turns with the mouse in index.html; the static "
                                          "views above show it from three angles.)*",
}


def to_markdown(blocks):
    """The same document as Markdown, with relative image links."""
    return "\n\n".join(MARKDOWN[kind](*items) for kind, *items in blocks) + "\n"
