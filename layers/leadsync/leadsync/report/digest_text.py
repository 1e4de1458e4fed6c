"""The digest's plain-text part: the same sections as the HTML one, in aligned columns."""

from __future__ import annotations

from leadsync.report.digest_view import (
    BULK_NOTE,
    BULK_TITLE,
    BUSIEST_HOUR,
    DEAD_LETTER_QUEUE,
    FOOTER,
    NOTHING,
    DigestView,
    letters,
)


def text(view: DigestView) -> str:
    lines = ["leadsync daily digest", f"From {view.period}.", ""]
    lines += _failures(view)
    lines += _totals(view)
    if view.bulk_lines:
        lines += ["", BULK_TITLE.upper()]
        lines += [f"  - {line}" for line in view.bulk_lines]
        lines.append(f"  {BULK_NOTE}")
    lines += _examples(view)
    lines += ["", FOOTER]
    return "\n".join(lines) + "\n"


def _failures(view: DigestView) -> list[str]:
    lines = ["FAILURES BY CAUSE"]
    rows = view.rows()
    if not rows:
        return [*lines, f"  {NOTHING}"]
    width = min(60, max(len(cause) for _, cause, _ in rows))
    lines.append(f"  {'where':<18}  {'cause':<{width}}  {'count':>7}")
    lines += [f"  {where:<18}  {cause:<{width}}  {count:>7,}" for where, cause, count in rows]
    return lines


def _totals(view: DigestView) -> list[str]:
    if view.totals is None:
        return []
    lines = ["", f"TOTALS (Marketo's day, {view.totals.zone})"]
    header = view.totals_header()
    if header:
        widths = [max(12, len(label)) for label in header]
        lines.append(
            "  "
            + " " * 16
            + "".join(f"  {label:>{w}}" for label, w in zip(header, widths, strict=True))
        )
        for label, values in view.totals_rows():
            if label == BUSIEST_HOUR:
                continue
            cells = "".join(f"  {v:>{w}}" for v, w in zip(values, widths, strict=True))
            lines.append(f"  {label:<16}{cells}")
        for day, value in zip(header, view.totals_rows()[-1][1], strict=True):
            lines.append(f"  {BUSIEST_HOUR}, {day}: {value}")
    budget = view.budget_line()
    if budget:
        lines += ["", budget]
    return lines


def _examples(view: DigestView) -> list[str]:
    lines = ["", "EXAMPLES"] if view.groups or view.letter_groups else []
    for group in view.groups:
        lines += ["", f"{group.cause}: {group.count} ({group.occurrences} occurrence(s))"]
        lines += [f"  - {example}" for example in group.examples]
    for letter_group in view.letter_groups:
        lines += ["", f"{DEAD_LETTER_QUEUE} / {letter_group.cause}: {letters(letter_group)}"]
        lines += [f"  - {example}" for example in letter_group.examples]
    return lines
