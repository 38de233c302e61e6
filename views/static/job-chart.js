// Draws a job's memory chart from `GET /api/v1/jobs/:id/samples?buckets=N`
// into the page's SVG. It computes the same shapes as the server
// (coordinator/dashboard/chart-geometry.ts): keep the two in step.
window.memfarmChart = (() => {
  const WIDTH = 900;
  const HEIGHT = 260;
  const TOP = 16;
  const LABEL_GAP = 12;
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
    const upper = data.buckets.map((b) => `${mid(b)},${y(b.maxRssBytes)}`);
    const lower = data.buckets.map((b) => `${mid(b)},${y(b.minRssBytes)}`).reverse();
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
    return {
      rssBand: upper.concat(lower).join(" "),
      rssLine: upper.join(" "),
      cpuLine: data.buckets.map((b) => `${mid(b)},${yCpu(b.maxCpuPercent)}`).join(" "),
      cpuScale,
      levels: merged,
      boundaries: data.tests
        .filter((t) => t.startMs >= start && t.startMs <= start + span)
        .map((t) => ({ x: x(t.startMs), name: t.name })),
      peak: data.sampledPeak
        ? {
            x: x(data.sampledPeak.atMs),
            y: y(peakBytes),
            label: `${truePeak ? "peak" : "highest sample"} ${bytes(peakBytes)}`,
          }
        : null,
    };
  }

  function element(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Replaces the chart in `box` (creating the SVG on the first samples). */
  function draw(box, data) {
    const g = geometry(data);
    if (!g) return;
    let svg = box.querySelector("svg");
    if (!svg) {
      box.textContent = "";
      svg = element("svg", {
        id: "memory-chart",
        class: "chart",
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        role: "img",
      });
      box.append(svg);
    }
    svg.replaceChildren();
    svg.append(element("title", {}, `Memory and CPU of job ${data.jobId} over time`));
    const boundaries = element("g", { class: "boundaries" });
    for (const b of g.boundaries) {
      const line = element("line", { class: "boundary", x1: b.x, x2: b.x, y1: 0, y2: HEIGHT });
      line.append(element("title", {}, b.name));
      boundaries.append(line);
    }
    svg.append(boundaries);
    svg.append(element("polygon", { class: "rss-band", points: g.rssBand }));
    svg.append(element("polyline", { class: "rss", points: g.rssLine }));
    svg.append(element("polyline", { class: "cpu", points: g.cpuLine }));
    const levels = element("g", { class: "levels" });
    for (const l of g.levels) {
      levels.append(element("line", { class: `level level-${l.kind}`, x1: 0, x2: WIDTH, y1: l.y, y2: l.y }));
      levels.append(
        element(
          "text",
          { class: "level-label", x: WIDTH - 4, y: Math.max(11, l.y - 3), "text-anchor": "end" },
          l.label,
        ),
      );
    }
    svg.append(levels);
    if (g.peak) {
      const left = g.peak.x < WIDTH / 2;
      const peak = element("g", { class: "peak", "data-peak-label": g.peak.label });
      peak.append(
        element("line", { class: "level level-peak", x1: 0, x2: WIDTH, y1: g.peak.y, y2: g.peak.y }),
      );
      peak.append(element("circle", { cx: g.peak.x, cy: g.peak.y, r: 5 }));
      peak.append(
        element(
          "text",
          { x: left ? g.peak.x + 8 : g.peak.x - 8, y: g.peak.y + 14, "text-anchor": left ? "start" : "end" },
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
