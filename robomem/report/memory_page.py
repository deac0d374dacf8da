"""The memory viewer's page (``robomem memory view``): each site's knowledge graph, drawn and laid out by the
page's own script (nodes coloured by kind, edges by relation, confidence as opacity, age in episodes), the
site's history of superseded facts, and the episodic and semantic items with a search box."""

from __future__ import annotations

from html import escape
from typing import Any

from robomem.report.page import html_page, packed_script

__all__ = ("render_memory_page",)


def render_memory_page(data: dict[str, Any]) -> str:
    sites = data["sites"]
    options = "".join(
        f'<option value="{i}">{escape(site["site"])} ({len(site["nodes"])} nodes, '
        f"{len(site['edges'])} edges)</option>"
        for i, site in enumerate(sites)
    )
    counts = ", ".join(f"{len(items)} {name}" for name, items in data["stores"].items())
    graph = (
        '<p class="note">No spatial memory in this folder.</p>'
        if not sites
        else '<div class="controls"><label>site <select id="site-select">'
        f"{options}</select></label>"
        '<input id="node-search" type="search" placeholder="find a node">'
        '<label><input id="show-history" type="checkbox"> superseded edges</label></div>'
        '<div id="legend" class="legend"></div>'
        '<div class="layout"><svg id="graph" xmlns="http://www.w3.org/2000/svg"></svg>'
        '<div id="details" class="side"><p class="note">Click a node or an edge. Drag nodes; '
        "scroll to zoom.</p></div></div>"
    )
    body = (
        f"<header><h1>robomem memory</h1><div><code>{escape(data['memory'])}</code>: "
        f"{len(sites)} site(s), {escape(counts)}</div></header><main>"
        f"<h2>Spatial knowledge graph</h2>{graph}"
        "<h2>Long-term memory</h2>"
        '<div class="controls"><label>store <select id="store-select">'
        + "".join(
            f'<option value="{escape(name)}">{escape(name)} ({len(items)})</option>'
            for name, items in data["stores"].items()
        )
        + '</select></label><input id="item-search" type="search" placeholder="search items">'
        '<span id="item-count" class="note"></span></div>'
        '<table id="items" class="items"><thead><tr><th>text</th><th>count</th><th>site</th>'
        "<th>details</th></tr></thead><tbody></tbody></table></main>"
    )
    return html_page(
        f"robomem memory: {data['memory']}",
        body,
        css="report.css",
        js="memory.js",
        data=packed_script("memory-data", data),
    )
