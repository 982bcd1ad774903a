/* harness view: the browser side of `harness view` and of its --export folders.
 *
 * Model output is untrusted: every element is built with createElement/textContent, never
 * innerHTML, so `<script>` or `onerror=` in a response is shown as text. Data comes from the
 * JSON endpoints when served, and from data/*.js files (each calls VIEW_DATA(name, payload))
 * when the folder is opened from file://, where browsers block fetch.
 * Deep links (docs/viewer.md): #/sample/SUITE/PROBLEM_ID/SAMPLE, #/problem/SUITE/PROBLEM_ID,
 * #/diff; a #/run/N/ prefix picks the second run of a diff.
 */
(function () {
  "use strict";
  const MODE = document.body.dataset.mode;
  const FLAG_LABELS = {wrong: "wrong", truncated: "truncated", no_answer: "no answer",
                       unclosed_think: "unclosed think", audit: "audit disagrees", publisher: "publisher disagrees"};
  const PAGE_SIZE = 50;
  const OMITTED = /\[\.\.\. [0-9,]+ characters omitted by --max-bytes \.\.\.\]/g;
  const loaded = {}, waiting = {};
  const tableState = {};

  // ------------------------------------------------------------------ data
  window.VIEW_DATA = function (name, payload) {
    loaded[name] = payload;
    (waiting[name] || []).forEach((resolve) => resolve(payload));
    delete waiting[name];
  };

  function script(name) {
    if (name in loaded) return Promise.resolve(loaded[name]);
    return new Promise((resolve, reject) => {
      const first = !waiting[name];
      (waiting[name] = waiting[name] || []).push(resolve);
      if (!first) return;
      const tag = document.createElement("script");
      tag.src = "data/" + name + ".js";
      tag.onerror = () => reject(new Error("this export has no data file " + name + ".js"));
      document.head.appendChild(tag);
    });
  }

  async function fetchJson(kind, params) {
    const response = await fetch("api/" + kind + "?" + new URLSearchParams(params));
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  async function exported(kind, p) {
    if (kind === "runs" || kind === "diff") return script(kind);
    const table = await script("problems-" + p.run + "-" + p.suite);
    if (kind === "problems") return table;
    const row = table.rows.find((r) => r.id === p.pid);
    if (!row) throw new Error(p.suite + " " + p.pid + ": not in this run");
    const file = await script("p-" + p.run + "-" + p.suite + "-" + row.file);
    if (kind === "problem") return file.problem;
    const sample = file.samples[String(p.sample)];
    if (!sample) throw new Error(p.pid + " sample " + p.sample + ": not in this run");
    return Object.assign({prompt: file.prompt}, sample);
  }

  const api = (kind, params) => (MODE === "served" ? fetchJson(kind, params || {}) : exported(kind, params || {}));
  const plotUrl = (run, name) => (MODE === "served" ? "plot/" + name + ".png?run=" + run : "plot/" + run + "-" + name + ".png");

  // ------------------------------------------------------------------ DOM helpers (text only)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1));
  const num = (v, digits) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits || 0));
  const part = (text) => String(text).replace(/[%#?\s]/g, (c) => encodeURIComponent(c));
  const prefix = (run) => (run ? "#/run/" + run + "/" : "#/");
  const sampleLink = (run, suite, pid, s) => prefix(run) + "sample/" + part(suite) + "/" + part(pid) + "/" + s;
  const problemLink = (run, suite, pid) => prefix(run) + "problem/" + part(suite) + "/" + part(pid);
  const json = (value) => JSON.stringify(value, null, 2);

  function table(headers, rows, cls) {
    return el("table", {class: cls}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
              el("tbody", {}, rows));
  }
  function facts(pairs) {
    return el("dl", {class: "facts"}, pairs.filter((p) => p[1] !== undefined && p[1] !== null && p[1] !== "")
      .map(([k, v]) => [el("dt", {}, k), el("dd", {}, typeof v === "object" && !(v instanceof Node) ? json(v) : v)]));
  }
  function show(...nodes) {
    const app = document.getElementById("app");
    app.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
    window.scrollTo(0, 0);
  }

  // ------------------------------------------------------------------ routing
  function route() {
    let hash = location.hash.replace(/^#\/?/, "");
    try { hash = decodeURIComponent(hash); } catch (e) { /* keep it raw */ }
    let run = 0;
    const m = hash.match(/^run\/(\d+)\/?(.*)$/);
    if (m) { run = Number(m[1]); hash = m[2]; }
    const parts = hash.split("/");
    if (parts[0] === "sample" && parts.length >= 4) {
      return {view: "sample", run, suite: parts[1], pid: parts.slice(2, -1).join("/"), sample: Number(parts[parts.length - 1])};
    }
    if (parts[0] === "problem" && parts.length >= 3) return {view: "problem", run, suite: parts[1], pid: parts.slice(2).join("/")};
    if (parts[0] === "diff") return {view: "diff"};
    return {view: "run", run};
  }

  let RUNS = null;
  async function render() {
    try {
      if (!RUNS) RUNS = await api("runs");
      nav();
      const r = route();
      if (!RUNS.runs[r.run || 0]) throw new Error("no run " + r.run + " here");
      if (r.view === "sample") await samplePage(r);
      else if (r.view === "problem") await problemPage(r);
      else if (r.view === "diff") await diffPage();
      else await runPage(r.run);
    } catch (err) {
      show(el("div", {class: "banner error"}, "error: " + err.message));
    }
  }

  function nav() {
    const links = RUNS.runs.map((run, i) => el("a", {href: prefix(i)}, (RUNS.runs.length > 1 ? "ABCD"[i] + ": " : "") + run.name));
    if (RUNS.diff) links.push(el("a", {href: "#/diff"}, "diff"));
    document.getElementById("nav").replaceChildren(...links);
  }

  // ------------------------------------------------------------------ run page
  function suiteCard(run, s) {
    const m = s.metrics || {};
    const a = s.analytics || {};
    const tokens = a.tokens;
    const blocks = a.seed_blocks;
    const metricRows = [
      ["pass@1 [95% CI]", m["pass@1"] === undefined ? "–" : pct(m["pass@1"]) + " [" + pct((m.ci95 || [])[0]) + ", " + pct((m.ci95 || [])[1]) + "]"],
      ["pass@k", m["pass@k"] ? Object.entries(m["pass@k"]).map(([k, v]) => "pass@" + k + " " + pct(v)).join(", ") : "–"],
      ["cons@n", pct(m["cons@n"])],
      ["truncation rate", pct(s.truncation_rate)],
      ["mean response tokens", num(m.mean_response_tokens, 1)],
      ["tokens p50 / p90 / p99 / max", tokens ? [tokens.p50, tokens.p90, tokens.p99, tokens.max].map((v) => num(v)).join(" / ") : "–"],
      ["mean tokens correct / incorrect", tokens ? num(tokens.mean_correct) + " / " + num(tokens.mean_incorrect) : "–"],
      ["seed blocks (mean ± std)", blocks ? pct(blocks.mean) + " ± " + pct(blocks.std) + " (" + blocks.blocks + " blocks of " + blocks.block_size + ")" : "–"],
      ["samples generated / graded / planned", s.generated + " / " + s.graded + " / " + (s.expected_samples || "?")],
    ].map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {class: "num"}, v)));
    return el("section", {class: "suite", id: "suite-" + s.suite},
      el("h2", {}, s.suite),
      facts([["sampling", s.sampling], ["options", s.options], ["data", s.data_path], ["data sha256", s.data_sha256],
             ["grader", s.grader]]),
      s.deviations && s.deviations.length ? [el("h3", {}, "deviations from the published protocol"),
        el("ul", {}, s.deviations.map((d) => el("li", {}, d)))] : el("p", {class: "muted"}, "no deviation from the published protocol"),
      el("table", {class: "metrics"}, el("tbody", {}, metricRows)));
  }

  function plots(runIndex) {
    return el("div", {class: "plots"}, ["budget", "histogram", "truncation"].map((name) =>
      el("img", {src: plotUrl(runIndex, name), alt: name + " plot", onerror: (e) => e.target.remove()})));
  }

  async function runPage(runIndex) {
    const run = RUNS.runs[runIndex];
    const errors = run.error_count ? [el("div", {class: "banner error"}, run.error_count + " corrupt line(s): shown as error rows"),
      table(["file", "line", "error"], run.errors.map((e) => el("tr", {class: "errorrow"}, el("td", {}, e.file), el("td", {class: "num"}, e.line), el("td", {}, e.error))))] : [];
    const head = [
      el("h1", {}, run.model + " · " + run.name),
      run.in_progress ? el("div", {class: "banner progress"}, "in progress: this run has not finished; showing what exists so far (reload for more)") : null,
      ...errors,
      facts([["run directory", run.path], ["kind", run.kind], ["model", run.model], ["backend", run.backend],
             ["backend version", run.backend_version], ["harness", run.harness], ["seeds", run.seeds],
             ["started", run.started_at], ["finished", run.finished_at], ["host", run.host]]),
    ];
    const cards = run.suites.map((s) => suiteCard(runIndex, s));
    const tableHolder = el("div", {id: "problems"});
    show(head, cards, el("h2", {}, "length analytics"), plots(runIndex), el("h2", {}, "problems"), tableHolder);
    await problemTable(tableHolder, runIndex, run);
  }

  // ------------------------------------------------------------------ problem table
  async function problemTable(holder, runIndex, run) {
    const key = runIndex;
    const state = tableState[key] = tableState[key] || {suite: run.suites[0] && run.suites[0].suite, filters: {}, q: "", sort: "id", asc: true, page: 0, hits: null};
    if (!state.suite) { holder.replaceChildren(el("p", {class: "muted"}, "no suites")); return; }
    const data = await api("problems", {run: runIndex, suite: state.suite});
    const info = run.suites.find((s) => s.suite === state.suite) || {};
    const flags = ["wrong", "truncated", "no_answer", "unclosed_think"].concat(info.has_audit ? ["audit"] : [], info.has_published ? ["publisher"] : []);

    const tabs = el("div", {class: "tabs"}, run.suites.map((s) => el("button", {type: "button", class: s.suite === state.suite ? "active" : "",
      onclick: () => { state.suite = s.suite; state.page = 0; state.hits = null; state.q = ""; problemTable(holder, runIndex, run); }}, s.suite)));
    const search = el("input", {type: "search", id: "search", placeholder: "search statements and responses", value: state.q});
    const controls = el("div", {class: "controls"},
      flags.map((f) => el("label", {}, el("input", {type: "checkbox", "data-flag": f, checked: state.filters[f] ? "checked" : null,
        onchange: (e) => { state.filters[f] = e.target.checked; state.page = 0; draw(); }}), " " + FLAG_LABELS[f])),
      search, el("button", {id: "search-go", onclick: () => runSearch()}, "search"));
    search.addEventListener("keydown", (e) => { if (e.key === "Enter") runSearch(); });
    const body = el("div", {});
    holder.replaceChildren(tabs, controls, body);

    async function runSearch() {
      state.q = search.value.trim();
      state.page = 0;
      if (!state.q) state.hits = null;
      else if (MODE === "served") state.hits = new Set((await api("search", {run: runIndex, suite: state.suite, q: state.q})).problems);
      else {
        const needle = state.q.toLowerCase();
        state.hits = new Set(data.rows.filter((r) => (r.statement + " " + r.id + " " + (r.search || "")).toLowerCase().includes(needle)
          || r.samples.some((s) => String(s.extracted || "").toLowerCase().includes(needle))).map((r) => r.id));
      }
      draw();
    }

    const sorters = {id: (r) => r.id, rate: (r) => (r.rate === null ? -1 : r.rate), n: (r) => r.n,
                     tokens: (r) => (r.tokens === null ? -1 : r.tokens), flagged: (r) => Object.values(r.flags).reduce((a, b) => a + b, 0)};
    function visible() {
      const active = flags.filter((f) => state.filters[f]);
      let rows = data.rows.filter((r) => active.every((f) => r.flags[f]) && (!state.hits || state.hits.has(r.id)));
      const by = sorters[state.sort];
      rows = rows.slice().sort((a, b) => { const x = by(a), y = by(b); return (x < y ? -1 : x > y ? 1 : 0) * (state.asc ? 1 : -1); });
      return {rows, active};
    }
    function header(label, key) {
      return el("th", {class: "sortable" + (state.sort === key ? " sorted" + (state.asc ? " asc" : "") : ""), "data-sort": key,
        onclick: () => { state.asc = state.sort === key ? !state.asc : true; state.sort = key; draw(); }}, label);
    }
    function draw() {
      const {rows, active} = visible();
      const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
      state.page = Math.min(state.page, pages - 1);
      const shown = rows.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
      const trs = shown.map((r) => el("tr", {class: "problem", "data-id": r.id},
        el("td", {}, el("a", {href: problemLink(runIndex, state.suite, r.id), title: r.statement}, r.id)),
        el("td", {class: "num"}, r.rate === null ? "pending" : pct(r.rate) + " (" + r.correct + "/" + r.graded + ")"),
        el("td", {}, el("div", {class: "marks"}, r.samples.map((s) => el("a", {href: sampleLink(runIndex, state.suite, r.id, s.s),
          class: "mark " + s.v + (active.some((f) => s.flags.includes(f)) ? " flagged" : ""),
          title: "sample " + s.s + ": " + s.v + (s.reason ? " (" + s.reason + ")" : "") + (s.tokens !== null ? ", " + s.tokens + " tokens" : "") + (s.finish ? ", " + s.finish : "")})))),
        el("td", {}, Object.entries(r.reasons).map(([k, v]) => k + " " + v).join(", ")),
        el("td", {class: "num"}, num(r.tokens)),
        el("td", {}, Object.entries(r.flags).map(([k, v]) => FLAG_LABELS[k] + " " + v).join(", "))));
      body.replaceChildren(
        el("p", {class: "muted", id: "row-count"}, rows.length + " of " + data.rows.length + " problems" + (state.q ? " matching “" + state.q + "”" : "")),
        table([header("problem", "id"), header("pass rate", "rate"), header("samples", "n"), el("th", {}, "reasons"),
               header("mean tokens", "tokens"), header("flags", "flagged")], trs, "problems"),
        el("div", {class: "pager"},
          el("button", {disabled: state.page === 0 ? "disabled" : null, onclick: () => { state.page--; draw(); }}, "‹ previous"),
          "page " + (state.page + 1) + " of " + pages + " ",
          el("button", {disabled: state.page >= pages - 1 ? "disabled" : null, onclick: () => { state.page++; draw(); }}, "next ›")));
    }
    draw();
  }

  // ------------------------------------------------------------------ problem page
  async function problemPage(r) {
    const p = await api("problem", {run: r.run, suite: r.suite, pid: r.pid});
    const rows = p.row.samples.map((s) => el("tr", {},
      el("td", {}, el("a", {href: sampleLink(r.run, r.suite, r.pid, s.s)}, "sample " + s.s)),
      el("td", {class: "verdict " + s.v}, s.v), el("td", {}, s.reason || ""), el("td", {}, s.extracted === null ? "(none)" : String(s.extracted)),
      el("td", {}, s.finish || "?"), el("td", {class: "num"}, num(s.tokens)), el("td", {}, s.flags.map((f) => FLAG_LABELS[f]).join(", "))));
    show(crumbs(r), el("h1", {}, r.suite + " · " + r.pid),
      el("p", {}, "pass rate " + pct(p.row.rate) + " (" + p.row.correct + "/" + p.row.graded + " graded of " + p.row.n + ")"),
      el("h2", {}, "statement"), el("pre", {}, p.statement === null ? "(not available: the suite's data could not be loaded)" : p.statement),
      el("h2", {}, "gold answer"), el("pre", {}, typeof p.answer === "string" ? p.answer : json(p.answer)),
      el("h2", {}, "samples"), table(["sample", "verdict", "reason", "extracted", "finish", "tokens", "flags"], rows));
  }

  function crumbs(r) {
    const run = RUNS.runs[r.run];
    return el("p", {class: "crumbs"}, el("a", {href: prefix(r.run)}, run.name), " › ", r.suite, " › ",
      el("a", {href: problemLink(r.run, r.suite, r.pid)}, r.pid), r.sample !== undefined ? " › sample " + r.sample : null);
  }

  // ------------------------------------------------------------------ sample page
  function withOmissions(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(OMITTED)) {
      out.push(text.slice(last, m.index), el("span", {class: "omitted"}, m[0]));
      last = m.index + m[0].length;
    }
    out.push(text.slice(last));
    return out;
  }

  function gradedText(text, extracted) {
    const at = extracted ? text.lastIndexOf(extracted) : -1;
    if (at < 0) return withOmissions(text);
    return [withOmissions(text.slice(0, at)), el("mark", {class: "answer", title: "the extracted answer"}, extracted),
            withOmissions(text.slice(at + extracted.length))];
  }

  function responseView(sample) {
    const extracted = sample.grade && typeof sample.grade.extracted === "string" ? sample.grade.extracted : null;
    if (!sample.segments.length) return el("pre", {class: "ungraded"}, "(empty response)");
    return sample.segments.map((seg) => {
      const body = el("pre", {class: seg.graded ? "graded" : "ungraded"}, seg.graded && seg.kind === "text" ? gradedText(seg.text, extracted) : withOmissions(seg.text));
      if (seg.kind !== "think") return [seg.graded ? el("p", {class: "muted"}, "graded region (what the grader read):") : null, body];
      return el("details", {class: "think"}, el("summary", {}, "think block, " + seg.text.length.toLocaleString() + " characters" +
        (seg.graded ? " (graded: think=full)" : " (not graded)") + ": click to unfold"), body);
    });
  }

  function details(grade) {
    if (!grade) return el("p", {class: "muted"}, "not graded yet");
    const known = new Set(["suite", "problem_id", "sample", "correct", "extracted", "reason"]);
    const rest = Object.entries(grade).filter(([k]) => !known.has(k));
    if (!rest.length) return el("p", {class: "muted"}, "no further details from the grader");
    return table(["detail", "value"], rest.map(([k, v]) => el("tr", {}, el("th", {}, k),
      el("td", {}, Array.isArray(v) && v.length && typeof v[0] === "object" ? testTable(v) : el("pre", {}, typeof v === "string" ? v : json(v))))));
  }

  function testTable(tests) {
    const keys = Array.from(new Set(tests.flatMap((t) => Object.keys(t))));
    return table(keys, tests.map((t) => el("tr", {}, keys.map((k) => el("td", {}, t[k] === undefined ? "" : typeof t[k] === "string" ? t[k] : json(t[k]))))));
  }

  async function samplePage(r) {
    const sample = await api("sample", {run: r.run, suite: r.suite, pid: r.pid, sample: r.sample});
    const g = sample.generation || {}, grade = sample.grade, row = sample.row;
    const prompt = sample.prompt || {};
    const messages = prompt.messages ? prompt.messages.map((m) => [el("div", {class: "role"}, m.role), el("pre", {class: "prompt"}, m.content)])
                                     : [el("p", {class: "muted"}, prompt.source)];
    const others = [];
    if (r.sample > 0) others.push(el("a", {href: sampleLink(r.run, r.suite, r.pid, r.sample - 1)}, "‹ sample " + (r.sample - 1)), " ");
    others.push(el("a", {href: sampleLink(r.run, r.suite, r.pid, r.sample + 1)}, "sample " + (r.sample + 1) + " ›"));
    show(crumbs(r), el("h1", {}, r.suite + " · " + r.pid + " · sample " + r.sample), el("p", {}, others),
      el("div", {class: "side"},
        el("div", {}, el("h2", {}, "extracted"), el("pre", {id: "extracted"}, grade ? (grade.extracted === null ? "(no answer)" : String(grade.extracted)) : "(not graded)")),
        el("div", {}, el("h2", {}, "gold"), el("pre", {id: "gold"}, prompt.answer === undefined ? "(suite data not available)" : typeof prompt.answer === "string" ? prompt.answer : json(prompt.answer)))),
      facts([["verdict", el("span", {class: "verdict " + row.v}, row.v)], ["reason", grade ? grade.reason : null],
             ["finish reason", g.finish_reason || "unknown"], ["tokens", g.num_tokens], ["characters", sample.chars], ["seed", g.seed],
             ["flags", row.flags.map((f) => FLAG_LABELS[f]).join(", ") || "none"],
             ["publisher's verdict", g.published_correct === undefined ? null : (g.published_correct ? "correct" : "wrong")],
             ["publisher's extraction", g.published_extracted], ["think policy", sample.think_policy],
             ["grader audit", sample.audit]]),
      el("h2", {}, "grader details"), details(grade),
      el("h2", {}, "prompt"), el("p", {class: "muted"}, prompt.source), prompt.note ? el("p", {}, "note: " + prompt.note) : null, messages,
      el("h2", {}, "response"), el("div", {id: "response"}, responseView(sample)));
  }

  // ------------------------------------------------------------------ diff page
  async function diffPage() {
    const d = await api("diff");
    const gate = d.gate;
    const status = {pass: ["pass", "gate: PASS (no significant regression)"], fail: ["error", "gate: FAIL (significant regression in " + (gate.regressed_suites || []).join(", ") + ")"],
                    incomparable: ["error", "gate: cannot compare: " + gate.reason]}[gate.status];
    const verdicts = (gate.suites || []).map((v) => el("tr", {}, el("td", {}, v.suite), el("td", {class: "num"}, v.problems), el("td", {class: "num"}, v.n),
      el("td", {class: "num"}, pct(v.baseline)), el("td", {class: "num"}, pct(v.candidate)),
      el("td", {class: "num"}, (v.difference >= 0 ? "+" : "") + pct(v.difference) + " [" + pct(v.ci95[0]) + ", " + pct(v.ci95[1]) + "]"),
      el("td", {}, v.test), el("td", {class: "num"}, Number(v.p_holm).toPrecision(3)), el("td", {class: "verdict " + (v.regression ? "wrong" : "correct")}, v.regression ? "REGRESSION" : "ok")));
    const suites = d.suites.map((s) => [
      el("h2", {}, s.suite + ": " + s.changed.length + " of " + s.common + " problems changed"),
      s.only_base || s.only_cand ? el("p", {class: "muted"}, s.only_base + " problems only in A, " + s.only_cand + " only in B") : null,
      table(["problem", "A", "B", "change", "flipped samples (A → B)"], s.changed.map((c) => el("tr", {class: "changed", "data-id": c.id},
        el("td", {}, el("a", {href: problemLink(0, s.suite, c.id)}, c.id), " ", el("a", {href: problemLink(1, s.suite, c.id)}, "(B)")),
        el("td", {class: "num"}, pct(c.base)), el("td", {class: "num"}, pct(c.cand)),
        el("td", {class: "num verdict " + (c.delta < 0 ? "wrong" : "correct")}, (c.delta >= 0 ? "+" : "") + pct(c.delta)),
        el("td", {}, c.flipped.map((f) => [el("a", {href: sampleLink(0, s.suite, c.id, f.s)}, "#" + f.s + " " + (f.base ? "✓" : "✗")), "→",
          el("a", {href: sampleLink(1, s.suite, c.id, f.s)}, (f.cand ? "✓" : "✗")), " "]))))),
    ]);
    show(el("h1", {}, "diff: A " + d.base + " → B " + d.cand), el("div", {class: "banner " + status[0], id: "gate-status"}, status[1]),
      gate.suites && gate.suites.length ? table(["suite", "problems", "n", "A", "B", "diff [95% CI]", "test", "p (Holm)", "verdict"], verdicts) : null,
      el("p", {class: "muted"}, "same numbers as: " + d.command), suites);
  }

  window.addEventListener("hashchange", render);
  render();
})();
