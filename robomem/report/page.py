"""Self-contained HTML pages: the package's own CSS and JavaScript inlined, data as JSON in the page.

Nothing is fetched when a page opens (no CDN, no font, no image): it works from ``file://`` offline.
"""

from __future__ import annotations

import json
from html import escape
from importlib.resources import files
from typing import Any

__all__ = ("asset", "html_page", "json_script")


def asset(name: str) -> str:
    return files("robomem.report").joinpath("assets", name).read_text(encoding="utf-8")


def json_script(element_id: str, data: Any) -> str:
    """Data for the page's script, safe inside ``<script>``: ``<``, ``>`` and ``&`` are escaped as JSON
    ``\\u`` sequences, so a text holding ``</script>`` cannot end the element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


def html_page(title: str, body: str, *, css: str, js: str, data: str = "") -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No outside resource may load, whatever a data string holds.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{asset(css)}</style></head>\n"
        f"<body>{body}{data}<script>{asset(js)}</script></body></html>\n"
    )
