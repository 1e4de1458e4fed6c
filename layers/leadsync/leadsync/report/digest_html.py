"""The digest's HTML part: every value escaped, inline styles only (mail clients drop <style>
blocks). A plain, large sans-serif keeps the summary legible at a glance (and to a machine
reading a screenshot)."""

from __future__ import annotations

import html as markup
from collections.abc import Sequence

from leadsync.report.digest_view import (
    BULK_NOTE,
    BULK_TITLE,
    DEAD_LETTER_QUEUE,
    FOOTER,
    NOTHING,
    DigestView,
    letters,
)

_FONT = "font-family:'DejaVu Sans',Verdana,Arial,Helvetica,sans-serif"
_BODY = (
    f"margin:0;padding:24px;max-width:1100px;background:#ffffff;color:#1a1a1a;{_FONT};"
    "font-size:16px"
)
_H1 = "font-size:28px;margin:0 0 8px 0"
_H2 = "font-size:22px;margin:28px 0 10px 0;border-bottom:2px solid #d0d0d0"
_H3 = "font-size:17px;margin:18px 0 6px 0"
_TABLE = "border-collapse:collapse"
_CELL = "padding:6px 18px 6px 0;text-align:left;vertical-align:top"
_NUM = "padding:6px 0 6px 18px;text-align:right;vertical-align:top"
_BIG = "font-size:22px"
_EXAMPLES = "margin:4px 0 0 0;padding-left:22px"
_EXAMPLE = "font-size:14px;margin:3px 0;overflow-wrap:anywhere"


def html(view: DigestView) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>leadsync daily digest</title></head>',
        f'<body style="{_BODY}">',
        f'<h1 style="{_H1}">leadsync daily digest</h1>',
        f"<p>From {_h(view.period)}.</p>",
    ]
    parts += _failures(view)
    parts += _totals(view)
    if view.bulk_lines:
        parts.append(f'<h2 style="{_H2}">{_h(BULK_TITLE)}</h2>')
        parts.append(_list(view.bulk_lines))
        parts.append(f"<p>{_h(BULK_NOTE)}</p>")
    parts += _examples(view)
    parts.append(f'<p style="font-size:13px;color:#555555;margin-top:28px">{_h(FOOTER)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _failures(view: DigestView) -> list[str]:
    parts = [f'<h2 style="{_H2}">Failures by cause</h2>']
    rows = view.rows()
    if not rows:
        return [*parts, f'<p style="{_BIG}">{NOTHING}</p>']
    parts.append(f'<table style="{_TABLE};{_BIG}">')
    parts.append(
        f'<tr><th style="{_CELL}">Where</th><th style="{_CELL}">Cause</th>'
        f'<th style="{_NUM}">Count</th></tr>'
    )
    parts += [
        f'<tr><td style="{_CELL}">{_h(where)}</td><td style="{_CELL}">{_h(cause)}</td>'
        f'<td style="{_NUM}">{count:,}</td></tr>'
        for where, cause, count in rows
    ]
    parts.append("</table>")
    return parts


def _totals(view: DigestView) -> list[str]:
    if view.totals is None:
        return []
    parts = [f'<h2 style="{_H2}">Totals (Marketo\'s day, {_h(view.totals.zone)})</h2>']
    header = view.totals_header()
    if header:
        parts.append(f'<table style="{_TABLE};font-size:18px">')
        parts.append(
            f'<tr><th style="{_CELL}"></th>'
            + "".join(f'<th style="{_NUM}">{_h(label)}</th>' for label in header)
            + "</tr>"
        )
        parts += [
            f'<tr><td style="{_CELL}">{_h(label)}</td>'
            + "".join(f'<td style="{_NUM}">{_h(value)}</td>' for value in values)
            + "</tr>"
            for label, values in view.totals_rows()
        ]
        parts.append("</table>")
    budget = view.budget_line()
    if budget:
        parts.append(f"<p>{_h(budget)}</p>")
    return parts


def _examples(view: DigestView) -> list[str]:
    parts = [f'<h2 style="{_H2}">Examples</h2>'] if view.groups or view.letter_groups else []
    for group in view.groups:
        parts.append(
            f'<h3 style="{_H3}">{_h(group.cause)}: {group.count:,}'
            f" <small>({group.occurrences:,} occurrence(s))</small></h3>"
        )
        parts.append(_list(group.examples))
    for letter_group in view.letter_groups:
        parts.append(
            f'<h3 style="{_H3}">{DEAD_LETTER_QUEUE} / {_h(letter_group.cause)}:'
            f" {_h(letters(letter_group))}</h3>"
        )
        parts.append(_list(letter_group.examples))
    return parts


def _list(examples: Sequence[str]) -> str:
    items = "".join(f'<li style="{_EXAMPLE}">{_h(example)}</li>' for example in examples)
    return f'<ul style="{_EXAMPLES}">{items}</ul>'


def _h(value: object) -> str:
    return markup.escape(str(value), quote=True)
