// What robomem's pages share, inlined before each page's own script (robomem.report.page.html_page): the
// page's data unpacked, and elements built with textContent only (never parsed as HTML).
"use strict";
async function unpack(id) {
  // gzip-compressed JSON in base64 (robomem.report.page.packed_script), unpacked by the browser itself.
  const bytes = Uint8Array.from(atob(document.getElementById(id).textContent.trim()), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
