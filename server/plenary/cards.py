"""Printable pages: table cards with QR codes, and the facilitators' sheet.

Rendered on the server as plain HTML: a QR code is an inline SVG from segno, and
every piece of organiser-entered text goes through ``html.escape``.
"""

from __future__ import annotations

from html import escape
from typing import Any

import segno


def qr_svg(url: str, title: str) -> str:
    """An inline, scalable SVG QR code for ``url``."""
    return segno.make(url, error="m").svg_inline(scale=4, omitsize=True, border=2,
                                                  title=title)


def _page(title: str, body_class: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/static/css/cards.css"></head>'
        f'<body class="{body_class}"><main>{body}</main></body></html>'
    )


def table_cards(setup: dict[str, Any], layout: str) -> str:
    """One card per table: number, topic, QR of the participant link, join code."""
    event = setup["event"]
    cards = []
    for t in setup["tables"]:
        code = t["join_code"]
        spaced = escape(f"{code[:4]} {code[4:]}")
        spoken = escape(" ".join(code))
        qr = qr_svg(t["participant_url"], f"Join table {t['number']}")
        cards.append(
            '<section class="card">'
            f'<p class="card-event">{escape(event["title"])}</p>'
            f'<h1 class="card-number">Table {int(t["number"])}</h1>'
            f'<p class="card-topic">{escape(t["topic"] or "")}</p>'
            f'<div class="card-qr">{qr}</div>'
            '<p class="card-how">Scan with your phone camera, or go to '
            f'<span class="card-url">{escape(setup["links"]["join_url"])}</span> '
            "and type the code:</p>"
            f'<p class="card-code" aria-label="Join code {spoken}">{spaced}</p>'
            "</section>"
        )
    layout = "a4" if layout == "a4" else "a5"
    return _page(f"Table cards: {event['title']}", f"layout-{layout}", "".join(cards))


def facilitators_sheet(setup: dict[str, Any]) -> str:
    """Each table's facilitator, topic and private link, to hand out."""
    event = setup["event"]
    rows = []
    for t in setup["tables"]:
        name = t["facilitator_name"] or "Facilitator"
        qr = qr_svg(t["facilitator_url"], f"Facilitate table {t['number']}")
        rows.append(
            '<section class="sheet-row">'
            f'<div class="card-qr">{qr}</div><div>'
            f"<h2>Table {int(t['number'])}: {escape(name)}</h2>"
            f"<p>{escape(t['topic'] or '')}</p>"
            f'<p class="card-url">{escape(t["facilitator_url"])}</p>'
            "<p>This link is private: it runs the table's board. Do not share it.</p>"
            "</div></section>"
        )
    body = (f'<h1>Facilitators: {escape(event["title"])}</h1><div class="sheet">'
            + "".join(rows) + "</div>")
    return _page(f"Facilitators: {event['title']}", "layout-sheet", body)
