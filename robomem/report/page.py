"""Self-contained HTML pages: the package's own CSS and JavaScript inlined, data as JSON in the page.

Nothing is fetched when a page opens (no CDN, no font, no image): it works from ``file://`` offline.
"""

from __future__ import annotations

import base64
import gzip
import json
from html import escape
from importlib.resources import files
from typing import Any

__all__ = ("asset", "html_page", "packed_script", "unpack")


def asset(name: str) -> str:
    return files("robomem.report").joinpath("assets", name).read_text(encoding="utf-8")


def packed_script(element_id: str, data: Any) -> str:
    """Data as gzip-compressed JSON in base64, which the page unpacks with the browser's own
    ``DecompressionStream``: the step traces of a few hundred episodes are tens of MB of JSON, mostly
    repeated retrieval text, and a tenth of that compressed. ``mtime=0`` keeps the file reproducible."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    packed = base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")
    return (
        f'<script type="application/octet-stream" data-encoding="gzip+base64" id="{escape(element_id)}">'
        f"{packed}</script>"
    )


def unpack(html: str, element_id: str) -> Any:
    """The data :func:`packed_script` put in ``html`` (for tests and tools)."""
    start = html.index(f'id="{element_id}">') + len(f'id="{element_id}">')
    packed = html[start : html.index("</script>", start)]
    return json.loads(gzip.decompress(base64.b64decode(packed)).decode("utf-8"))


def html_page(title: str, body: str, *, css: str, js: str, data: str = "") -> str:
    """``js``, the page's own script, runs after ``common.js`` (what every page uses: ``unpack``, ``el``)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No outside resource may load, whatever a data string holds.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{asset(css)}</style></head>\n"
        f"<body>{body}{data}<script>{asset('common.js')}</script><script>{asset(js)}</script></body></html>\n"
    )
