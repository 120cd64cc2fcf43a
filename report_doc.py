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

Both renderers give the same content in the same order, so the Markdown
holds everything the page shows. The page needs no network and no JavaScript.
"""
import html
import re

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
figure img { max-width: min(100%, 42rem); height: auto; border: 1px solid #ddd; }
figcaption, .caption { font-size: .85rem; color: #555; margin-top: .2rem; }
code { font-size: .85rem; background: #f4f4f4; padding: 0 .2rem; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: .5rem; overflow-x: auto; font-size: .8rem; }
.note { background: #fff6d6; border-left: 4px solid #e0a800; padding: .5rem .8rem; }
.failed { background: #fde8e8; border-left: 4px solid #c62828; padding: .5rem .8rem; white-space: pre-wrap; }
nav ul { columns: 2; }
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


def to_html(blocks):
    """The document as one self-contained HTML page (images referenced beside it)."""
    title = next((b[1] for b in blocks if b[0] == "title"), "Report")
    body, sections = [], [(b[1], b[2]) for b in blocks if b[0] == "section"]
    for block in blocks:
        kind = block[0]
        if kind == "title":
            body.append(f"<h1>{html.escape(block[1])}</h1>")
            if sections:
                links = "".join(f'<li><a href="#{sid}">{html.escape(text)}</a></li>' for sid, text in sections)
                body.append(f"<nav><ul>{links}</ul></nav>")
        elif kind == "section":
            body.append(f'<h2 id="{block[1]}">{html.escape(block[2])}</h2>')
        elif kind == "heading":
            body.append(f"<h3>{html.escape(block[1])}</h3>")
        elif kind == "text":
            body.append(f"<p>{_caption_html(block[1])}</p>")
        elif kind == "note":
            cls = "failed" if block[1].startswith(("Failed", "Skipped", "Not run")) else "note"
            body.append(f'<p class="{cls}">{_caption_html(block[1])}</p>')
        elif kind == "table":
            _, header, rows, caption = block
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
            cells = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
            cap = f'<div class="caption">{_caption_html(caption)}</div>' if caption else ""
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>{cap}")
        elif kind == "figure":
            _, path, caption = block
            body.append(f'<figure><img src="{html.escape(path)}" alt="{html.escape(caption)}">'
                        f"<figcaption>{_caption_html(caption)}</figcaption></figure>")
        elif kind == "code":
            _, text, caption = block
            cap = f'<div class="caption">{_caption_html(caption)}</div>' if caption else ""
            body.append(f"<pre>{html.escape(text)}</pre>{cap}")
        else:
            raise ValueError(f"unknown block {kind!r}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _md_cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks):
    """The same document as Markdown, with relative image links."""
    out = []
    for block in blocks:
        kind = block[0]
        if kind == "title":
            out.append(f"# {block[1]}")
        elif kind == "section":
            out.append(f"## {block[2]}")
        elif kind == "heading":
            out.append(f"### {block[1]}")
        elif kind == "text":
            out.append(block[1])
        elif kind == "note":
            out.append("> " + block[1].replace("\n", "\n> "))
        elif kind == "table":
            _, header, rows, caption = block
            lines = ["| " + " | ".join(_md_cell(c) for c in header) + " |",
                     "|" + "|".join("---" for _ in header) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines) + (f"\n\n*{caption}*" if caption else ""))
        elif kind == "figure":
            _, path, caption = block
            out.append(f"![{caption.replace('`', '')}]({path})\n\n*{caption}*")
        elif kind == "code":
            _, text, caption = block
            out.append(f"```\n{text}\n```" + (f"\n\n*{caption}*" if caption else ""))
        else:
            raise ValueError(f"unknown block {kind!r}")
    return "\n\n".join(out) + "\n"
