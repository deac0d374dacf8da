// robomem report: the episode list (worst first) and the step-by-step view of the clicked episode.
// Every value from the run is shown with textContent, never parsed as HTML.
"use strict";
// unpack() and el() come from common.js, inlined before this script.
unpack("report-data").then(function (runs) {
  const select = document.getElementById("run-select");
  const filter = document.getElementById("episode-filter");
  const tbody = document.querySelector("#episodes tbody");
  const panel = document.getElementById("steps");

  function text(value) {
    if (value === null || value === undefined) return "";
    return typeof value === "string" ? value : JSON.stringify(value, null, 1);
  }

  function listEpisodes() {
    const run = runs[Number(select.value)] || runs[0];
    const needle = filter.value.trim().toLowerCase();
    tbody.replaceChildren();
    run.episodes.forEach(function (ep, index) {
      const hay = (ep.id + " " + ep.task_id + " " + ep.instruction).toLowerCase();
      if (needle && !hay.includes(needle)) return;
      const ok = ep.success >= 1;
      const row = el(
        "tr",
        { class: "episode", "data-index": String(index), "data-episode": ep.id },
        el("td", {}, ep.id),
        el("td", {}, ep.task_id),
        el("td", { class: ok ? "ok" : "fail" }, ok ? "yes" : ep.error ? "error" : "no"),
        el("td", {}, (100 * ep.progress).toFixed(0) + "%"),
        el("td", {}, ep.steps),
        el("td", {}, ep.instruction)
      );
      row.addEventListener("click", function () {
        tbody.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
        row.classList.add("selected");
        showEpisode(run, ep);
      });
      tbody.append(row);
    });
  }

  function field(dl, name, value, cls) {
    if (value === null || value === undefined || value === "" ) return;
    dl.append(el("dt", {}, name));
    const dd = el("dd", cls ? { class: cls } : {});
    dd.append(value instanceof Node ? value : text(value));
    dl.append(dd);
  }

  function retrieved(value) {
    if (!value || typeof value !== "object") return value;
    const box = el("div");
    for (const [store, content] of Object.entries(value)) {
      if (!content) continue;
      box.append(el("details", {}, el("summary", {}, store + " (" + text(content).length + " chars)"),
        el("pre", {}, text(content))));
    }
    return box.childNodes.length ? box : null;
  }

  function llmCalls(calls) {
    if (!Array.isArray(calls) || !calls.length) return null;
    const box = el("div");
    for (const call of calls) {
      const head = (call.role || "?") + ": " + (call.prompt_tokens || 0) + " + " +
        (call.completion_tokens || 0) + " tokens";
      box.append(el("details", {}, el("summary", {}, head), el("pre", {}, text(call.reply))));
    }
    return box;
  }

  function queries(value) {
    if (Array.isArray(value)) return value.map(text).join("; ");
    if (value && typeof value === "object") {
      return Object.entries(value).map(([store, q]) => store + ": " + queries(q)).join("\n");
    }
    return value;
  }

  function timings(value) {
    if (!value || typeof value !== "object") return null;
    return Object.entries(value).map(([k, v]) => k + " " + Number(v).toFixed(3) + " s").join(", ");
  }

  function stepCard(number, log, trace) {
    const success = trace && "success" in trace ? trace.success : log ? log.success : null;
    const card = el("div", { class: "step " + (success === false ? "failed" : success ? "succeeded" : "") });
    card.append(el("h4", {}, "step " + number));
    const dl = el("dl");
    const t = trace || {};
    field(dl, "summary", t.summary);
    field(dl, "queries", queries(t.queries));
    field(dl, "retrieved", retrieved(t.retrieved));
    if (Array.isArray(t.plan) && t.plan.length) {
      field(dl, "plan", el("ol", {}, ...t.plan.map((p) => el("li", {}, text(p)))));
    }
    if (t.critic && typeof t.critic === "object") {
      field(dl, "critic", (t.critic.verdict || "?") + (t.critic.reason ? ": " + t.critic.reason : ""),
        "verdict-" + (t.critic.verdict || ""));
    }
    field(dl, "action", t.action !== undefined ? t.action : log ? log.action : null);
    field(dl, "feedback", t.feedback !== undefined ? t.feedback : log ? log.feedback : null);
    field(dl, "success", success === null ? null : String(success));
    field(dl, "timings", timings(t.timings));
    if (t.final) field(dl, "end", t.stop_reason || "last iteration");
    field(dl, "LLM", llmCalls(t.llm));
    card.append(dl);
    return card;
  }

  function showEpisode(run, ep) {
    panel.replaceChildren();
    const ok = ep.success >= 1;
    panel.append(
      el("h3", {}, run.label + " · " + ep.id + " · " + ep.task_id),
      el("p", {}, ep.instruction),
      el("p", { class: ok ? "ok" : "fail" },
        (ok ? "success" : "failure") + ", GC " + (100 * ep.progress).toFixed(0) + "%, " + ep.steps +
        " steps, " + ep.invalid + " invalid, " + Number(ep.seconds).toFixed(2) + " s" +
        (ep.error ? " — " + ep.error : ""))
    );
    // Trace rows and step-log rows are matched by their step number (the environment's step counter after
    // the iteration); either may be missing. Later rows with the same number executed nothing (a plan the
    // critic rejected, the closing iteration): the step log goes with the first.
    const byStep = new Map();
    function entry(key) {
      if (!byStep.has(key)) byStep.set(key, { log: null, traces: [] });
      return byStep.get(key);
    }
    (ep.step_log || []).forEach(function (s, i) {
      entry(Number.isInteger(s.step) ? s.step : i + 1).log = s;
    });
    (ep.trace || []).forEach(function (t, i) {
      entry(Number.isInteger(t.step) ? t.step : i + 1).traces.push(t);
    });
    const keys = Array.from(byStep.keys()).sort((a, b) => a - b);
    if (!keys.length) panel.append(el("p", { class: "note" }, "No steps recorded for this episode."));
    if (!(ep.trace || []).length && keys.length) {
      panel.append(el("p", { class: "note" }, "No trace for this episode: actions and feedback only."));
    }
    for (const key of keys) {
      const { log, traces } = byStep.get(key);
      if (!traces.length) {
        panel.append(stepCard(key, log, null));
        continue;
      }
      traces.forEach((t, i) => panel.append(stepCard(key, i === 0 ? log : null, t)));
    }
    panel.querySelectorAll(".step").forEach((card, i) => card.setAttribute("data-index", String(i)));
  }

  select.addEventListener("change", function () {
    panel.replaceChildren(el("p", { class: "note" }, "Click an episode to see its steps."));
    listEpisodes();
  });
  filter.addEventListener("input", listEpisodes);
  listEpisodes();
  document.body.dataset.ready = "1";
});
