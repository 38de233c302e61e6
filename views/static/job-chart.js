// Draws a job's memory chart from `GET /api/v1/jobs/:id/samples?buckets=N`
// into the page's SVG. It computes the same shapes as the server
// (coordinator/dashboard/chart-geometry.ts): keep the two in step.
window.memfarmChart = (() => {
  const WIDTH = 900;
  const HEIGHT = 260;
  const TOP = 16;
  const LABEL_GAP = 12;
  const AXIS_HEIGHT = 16;
  // The axes' steps, as coordinator/dashboard/chart-axes.ts has them.
  const MiB = 1024 ** 2;
  const GiB = 1024 ** 3;
  const BYTE_STEPS = [16, 32, 64, 128, 256, 512]
    .map((n) => n * MiB)
    .concat([1, 2, 4, 8, 16, 32, 64, 128].map((n) => n * GiB));
  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200];
  const elapsed = (s) => {
    if (s < 60) return `${s} s`;
    if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
    const m = Math.floor((s % 3600) / 60);
    return m === 0 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 3600)} h ${m} min`;
  };
  const SVG = "http://www.w3.org/2000/svg";
  const round = (value) => Math.round(value * 10) / 10;
  const bytes = (value) => {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let index = 0;
    while (value >= 1024 && index < units.length - 1) {
      value /= 1024;
      index += 1;
    }
    return index === 0 ? `${value} B` : `${value.toFixed(1)} ${units[index]}`;
  };

  // Label layout as coordinator/dashboard/chart-labels.ts has it: no label overprints another.
  const CHAR_WIDTH = 6;
  const BOLD_CHAR_WIDTH = 6.8;
  const ASCENT = 10;
  const DESCENT = 3;
  const LINE_STEP = ASCENT + DESCENT + 1;
  const PAD = 2;
  function boxOf(x, baseline, chars, anchor, bold) {
    const width = chars * (bold ? BOLD_CHAR_WIDTH : CHAR_WIDTH);
    const x1 = anchor === "start" ? x : x - width;
    return { x1: x1 - PAD, y1: baseline - ASCENT - PAD, x2: x1 + width + PAD, y2: baseline + DESCENT + PAD };
  }
  const overlaps = (a, b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
  function placeLevelLabels(levels) {
    let below = Number.NEGATIVE_INFINITY;
    return levels.map((level) => {
      const baseline = Math.max(ASCENT + 1, level.y - 3, below + LINE_STEP);
      below = baseline;
      return { labelY: baseline, box: boxOf(WIDTH - 4, baseline, level.label.length, "end") };
    });
  }
  function placePeakLabel(peak, taken) {
    const preferred = peak.x < WIDTH / 2 ? "start" : "end";
    const other = preferred === "start" ? "end" : "start";
    const below = peak.y + 14;
    const above = peak.y - 8;
    const candidates = [
      [below, preferred],
      [above, preferred],
      [below, other],
      [above, other],
    ];
    for (let step = 1; step * LINE_STEP < HEIGHT; step += 1)
      candidates.push([below + step * LINE_STEP, preferred], [above - step * LINE_STEP, preferred]);
    const place = ([baseline, anchor]) => {
      const labelX = anchor === "start" ? peak.x + 8 : peak.x - 8;
      return {
        labelX,
        labelY: baseline,
        anchor,
        box: boxOf(labelX, baseline, peak.label.length, anchor, true),
      };
    };
    const fits = (box) => box.y1 >= 0 && box.y2 <= HEIGHT && box.x1 >= 0 && box.x2 <= WIDTH;
    const placed = candidates
      .map(place)
      .find((candidate) => fits(candidate.box) && !taken.some((box) => overlaps(box, candidate.box)));
    return placed || place(candidates[0]);
  }
  // A test's short name where it overprints neither the label before it nor a limit's or the peak's.
  function labelled(boundaries, taken) {
    let freeFrom = 0;
    return boundaries
      .sort((a, b) => a.x - b.x)
      .map((b) => {
        const short = b.name.slice(b.name.lastIndexOf(".") + 1);
        const box = boxOf(b.x + 3, HEIGHT - 8, short.length, "start");
        if (b.x < freeFrom || box.x2 > WIDTH || taken.some((other) => overlaps(other, box)))
          return { ...b, label: null };
        freeFrom = box.x2 + 6;
        return { ...b, label: short };
      });
  }

  function geometry(data) {
    const first = data.buckets[0];
    const last = data.buckets[data.buckets.length - 1];
    if (!first) return null;
    const start = first.fromMs;
    const span = Math.max(1, last.toMs - start);
    const { memlimitBytes, reservationBytes, limitBytes } = data.limits;
    const peakBytes = Math.max(data.peakRssBytes || 0, data.sampledPeak ? data.sampledPeak.rssBytes : 0);
    const scale = Math.max(peakBytes, memlimitBytes || 0, reservationBytes, limitBytes || 0) * 1.05 || 1;
    const cpuScale = Math.max(100, ...data.buckets.map((b) => b.maxCpuPercent));
    const plot = HEIGHT - TOP;
    const x = (ms) => round(((ms - start) / span) * WIDTH);
    const mid = (b) => x((b.fromMs + b.toMs) / 2);
    const y = (v) => round(HEIGHT - (v / scale) * plot);
    const yCpu = (v) => round(HEIGHT - (v / cpuScale) * plot);
    // Runs of buckets without a gap, as splitAtGaps in chart-geometry.ts (GAP_MS there).
    const runs = [];
    for (const b of data.buckets) {
      const run = runs[runs.length - 1];
      const previous = run ? run[run.length - 1] : null;
      if (previous && b.fromMs - previous.toMs <= Math.max(10000, 5 * (b.toMs - b.fromMs))) run.push(b);
      else runs.push([b]);
    }
    const segments = runs.map((run) => {
      const upper = run.map((b) => `${mid(b)},${y(b.maxRssBytes)}`);
      const lower = run.map((b) => `${mid(b)},${y(b.minRssBytes)}`).reverse();
      return {
        band: upper.concat(lower).join(" "),
        line: upper.join(" "),
        cpu: run.map((b) => `${mid(b)},${yCpu(b.maxCpuPercent)}`).join(" "),
      };
    });
    const gaps = runs.slice(1).map((run, i) => {
      const before = runs[i][runs[i].length - 1];
      return { x1: x(before.toMs), x2: x(run[0].fromMs) };
    });
    const levels = [];
    const add = (kind, name, value) => {
      if (value) levels.push({ kind, y: y(value), label: `${name} ${bytes(value)}` });
    };
    const truePeak = data.peakRssBytes !== null;
    add("memlimit", "memlimit (-M)", memlimitBytes);
    add("reservation", "reservation", reservationBytes);
    add("limit", "enforced limit", limitBytes);
    const merged = [];
    for (const level of levels.sort((a, b) => a.y - b.y)) {
      const previous = merged[merged.length - 1];
      if (previous && Math.abs(previous.y - level.y) < LABEL_GAP) previous.label += ` · ${level.label}`;
      else merged.push({ ...level });
    }
    const byteStep = BYTE_STEPS.find((s) => scale / s <= 5) || BYTE_STEPS[BYTE_STEPS.length - 1];
    const yTicks = [];
    for (let v = byteStep; v < scale; v += byteStep)
      yTicks.push({ at: y(v), label: bytes(v).replace(".0 ", " ") });
    const timeStep = TIME_STEPS.find((s) => span / 1000 / s <= 8) || TIME_STEPS[TIME_STEPS.length - 1];
    const xTicks = [];
    for (let s = 0; s <= span / 1000; s += timeStep)
      xTicks.push({ at: x(start + s * 1000), label: elapsed(s) });
    const levelLabels = placeLevelLabels(merged);
    merged.forEach((level, index) => {
      level.labelY = levelLabels[index].labelY;
    });
    const taken = levelLabels.map((placed) => placed.box);
    let peak = null;
    if (data.sampledPeak) {
      peak = {
        x: x(data.sampledPeak.atMs),
        y: y(peakBytes),
        label: `${truePeak ? "peak" : "highest sample"} ${bytes(peakBytes)}`,
      };
      const placed = placePeakLabel(peak, taken);
      taken.push(placed.box);
      peak = { ...peak, labelX: placed.labelX, labelY: placed.labelY, anchor: placed.anchor };
    }
    const inRange = (t) => t.startMs >= start && t.startMs <= start + span;
    return {
      yTicks,
      xTicks,
      segments,
      gaps,
      cpuScale,
      levels: merged,
      boundaries: labelled(
        data.tests.filter(inRange).map((t) => ({ x: x(t.startMs), name: t.name })),
        taken,
      ),
      caseMarks: (data.cases || []).filter(inRange).map((t) => {
        const from = x(t.startMs);
        const to = t.endMs === null ? from : x(Math.min(t.endMs, start + span));
        return { x: from, width: Math.max(1, round(to - from)), name: t.name, outcome: t.outcome };
      }),
      peak,
    };
  }

  function element(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The hover readout: the data last drawn (or fetched once for a finished job's page).
  let latest = null;
  const clock = (ms) => {
    const s = Math.round(ms / 1000);
    return s < 60
      ? `${s} s`
      : s < 3600
        ? `${Math.floor(s / 60)} min ${s % 60} s`
        : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  };
  function readout(data, fraction) {
    const first = data.buckets[0];
    const last = data.buckets[data.buckets.length - 1];
    if (!first) return "";
    const at = first.fromMs + fraction * Math.max(1, last.toMs - first.fromMs);
    let nearest = first;
    for (const b of data.buckets) {
      if (Math.abs((b.fromMs + b.toMs) / 2 - at) < Math.abs((nearest.fromMs + nearest.toMs) / 2 - at))
        nearest = b;
    }
    const runningAt = (t) => t.startMs <= at && (t.endMs === null || t.endMs >= at);
    const running = data.tests.filter(runningAt).pop();
    // A case's own name (its class and method) after its file's.
    const runningCase = (data.cases || []).filter(runningAt).pop();
    const names = [
      running ? running.name : null,
      runningCase ? runningCase.name.split(".").slice(-2).join(".") : null,
    ]
      .filter(Boolean)
      .join(" › ");
    const memory =
      nearest.minRssBytes === nearest.maxRssBytes
        ? bytes(nearest.maxRssBytes)
        : `${bytes(nearest.minRssBytes)} to ${bytes(nearest.maxRssBytes)}`;
    return `at ${clock(at - first.fromMs)}: ${memory} resident, CPU ${Math.round(nearest.maxCpuPercent)} %${names ? `; ${names}` : ""}`;
  }
  function follow(box) {
    const out = document.getElementById("chart-readout");
    if (!out || box.dataset.follows) return;
    box.dataset.follows = "true";
    const jobId = box.closest("figure")?.dataset.job;
    box.addEventListener("pointermove", (event) => {
      const svg = box.querySelector("svg");
      if (!svg) return;
      const rect = svg.getBoundingClientRect();
      const fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
      if (latest) out.textContent = readout(latest, fraction);
      else if (jobId && !box.dataset.fetching) {
        box.dataset.fetching = "true";
        fetch(`/api/v1/jobs/${jobId}/samples?buckets=300`)
          .then((response) => (response.ok ? response.json() : null))
          .then((data) => {
            if (data && !latest) latest = data;
          })
          .catch(() => {
            delete box.dataset.fetching;
          });
      }
    });
    box.addEventListener("pointerleave", () => {
      out.textContent = "";
    });
  }
  const box = document.getElementById("chart-box");
  if (box) follow(box);

  /** Replaces the chart in `box` (creating the SVG on the first samples). */
  function draw(box, data) {
    const g = geometry(data);
    if (!g) return;
    latest = data;
    let svg = box.querySelector("svg");
    if (!svg) {
      box.textContent = "";
      svg = element("svg", {
        id: "memory-chart",
        class: "chart",
        viewBox: `0 0 ${WIDTH} ${HEIGHT + AXIS_HEIGHT}`,
        role: "img",
      });
      box.append(svg);
    }
    svg.replaceChildren();
    svg.append(element("title", {}, `Memory and CPU of job ${data.jobId} over time`));
    const yAxis = element("g", { class: "axis axis-y" });
    for (const t of g.yTicks) {
      yAxis.append(element("line", { class: "grid", x1: 0, x2: WIDTH, y1: t.at, y2: t.at }));
      yAxis.append(element("text", { class: "tick", x: 4, y: t.at - 3 }, t.label));
    }
    const xAxis = element("g", { class: "axis axis-x" });
    xAxis.append(element("line", { class: "axis-line", x1: 0, x2: WIDTH, y1: HEIGHT, y2: HEIGHT }));
    for (const t of g.xTicks) {
      xAxis.append(element("line", { class: "axis-tick", x1: t.at, x2: t.at, y1: HEIGHT, y2: HEIGHT + 4 }));
      const anchor = t.at < 20 ? "start" : t.at > WIDTH - 30 ? "end" : "middle";
      xAxis.append(
        element(
          "text",
          { class: "tick", x: t.at, y: HEIGHT + AXIS_HEIGHT - 2, "text-anchor": anchor },
          t.label,
        ),
      );
    }
    svg.append(yAxis, xAxis);
    const boundaries = element("g", { class: "boundaries" });
    for (const b of g.boundaries) {
      const line = element("line", { class: "boundary", x1: b.x, x2: b.x, y1: 0, y2: HEIGHT });
      line.append(element("title", {}, b.name));
      boundaries.append(line);
      if (b.label) {
        const text = element("text", { class: "test-label", x: b.x + 3, y: HEIGHT - 8 }, b.label);
        text.append(element("title", {}, b.name));
        boundaries.append(text);
      }
    }
    svg.append(boundaries);
    const cases = element("g", { class: "cases" });
    for (const c of g.caseMarks) {
      const mark = element("rect", {
        class: `case-mark case-${c.outcome}`,
        x: c.x,
        y: HEIGHT - 5,
        width: c.width,
        height: 5,
        "data-name": c.name,
      });
      mark.append(element("title", {}, c.name));
      cases.append(mark);
    }
    svg.append(cases);
    const gaps = element("g", { class: "gaps" });
    for (const gap of g.gaps) {
      const rect = element("rect", {
        class: "gap",
        x: gap.x1,
        y: 0,
        width: Math.max(1, gap.x2 - gap.x1),
        height: HEIGHT,
      });
      rect.append(element("title", {}, "no samples (the agent was lost, or the job moved to another host)"));
      gaps.append(rect);
    }
    svg.append(gaps);
    for (const s of g.segments) {
      svg.append(element("polygon", { class: "rss-band", points: s.band }));
      svg.append(element("polyline", { class: "rss", points: s.line }));
      svg.append(element("polyline", { class: "cpu", points: s.cpu }));
    }
    const levels = element("g", { class: "levels" });
    for (const l of g.levels) {
      levels.append(element("line", { class: `level level-${l.kind}`, x1: 0, x2: WIDTH, y1: l.y, y2: l.y }));
      levels.append(
        element("text", { class: "level-label", x: WIDTH - 4, y: l.labelY, "text-anchor": "end" }, l.label),
      );
    }
    svg.append(levels);
    if (g.peak) {
      const peak = element("g", { class: "peak", "data-peak-label": g.peak.label });
      peak.append(
        element("line", { class: "level level-peak", x1: 0, x2: WIDTH, y1: g.peak.y, y2: g.peak.y }),
      );
      peak.append(element("circle", { cx: g.peak.x, cy: g.peak.y, r: 5 }));
      peak.append(
        element(
          "text",
          { class: "peak-label", x: g.peak.labelX, y: g.peak.labelY, "text-anchor": g.peak.anchor },
          g.peak.label,
        ),
      );
      svg.append(peak);
    }
    svg.dataset.buckets = String(data.buckets.length);
    const cpuScale = document.getElementById("cpu-scale");
    if (cpuScale) cpuScale.textContent = String(g.cpuScale);
  }

  return { draw };
})();
