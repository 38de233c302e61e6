// Live updates of a job page from its event stream: new log lines are
// appended, the chart is redrawn as samples arrive, and the page reloads once
// the job has ended (the final page has the result, the true peak and the
// tests). The page is complete without this script.
(() => {
  const log = document.getElementById("log");
  if (!log || log.dataset.final === "true" || !window.EventSource) return;
  const jobId = log.dataset.job;
  const status = document.getElementById("job-status");
  const chartBox = document.getElementById("chart-box");
  let lastLine = Number(log.dataset.lastLine || 0);

  // Samples arrive several times a second; the chart is refetched (downsampled
  // by the server) at most once a second, and once more after the last event.
  let chartPending = false;
  let chartTimer = null;
  const refreshChart = () => {
    chartTimer = null;
    chartPending = false;
    fetch(`/api/v1/jobs/${jobId}/samples?buckets=300`)
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (data && chartBox && window.memfarmChart) window.memfarmChart.draw(chartBox, data);
      })
      .catch(() => {
        // The next samples event tries again.
      });
  };
  const scheduleChart = () => {
    chartPending = true;
    if (chartTimer === null) chartTimer = setTimeout(refreshChart, 1000);
  };

  const source = new EventSource(`/api/v1/jobs/${jobId}/events?fromLine=${lastLine}`);
  source.addEventListener("open", () => {
    log.dataset.connected = "true";
  });
  source.addEventListener("log", (event) => {
    const { lines } = JSON.parse(event.data);
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    for (const line of lines) {
      if (line.lineNo <= lastLine) continue;
      lastLine = line.lineNo;
      const span = document.createElement("span");
      span.className = line.stream;
      span.id = `L${line.lineNo}`;
      // Its number is its permalink, as on the page the server renders.
      const number = document.createElement("a");
      number.className = "ln";
      number.href = `#L${line.lineNo}`;
      number.setAttribute("aria-label", `line ${line.lineNo}`);
      number.textContent = String(line.lineNo);
      span.append(number);
      if (line.at) {
        const time = document.createElement("time");
        time.className = "at";
        time.dateTime = line.at;
        time.textContent = line.at.slice(11, 19);
        span.append(time);
      }
      // As the page cuts them: a long line stays whole in the download, not in the browser.
      span.append(
        line.text.length > 2048
          ? `${line.text.slice(0, 2048)} … ${line.text.length - 2048} more characters`
          : line.text,
      );
      log.append(span, "\n");
      // The page keeps the newest lines; the download has them all.
      while (log.childElementCount > 5000) {
        const oldest = log.firstElementChild;
        oldest?.nextSibling?.remove(); // its newline
        oldest?.remove();
      }
    }
    log.dataset.lastLine = String(lastLine);
    if (atBottom) log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("samples", scheduleChart);
  source.addEventListener("job", (event) => {
    const job = JSON.parse(event.data);
    if (status && status.textContent !== job.status) {
      status.textContent = job.status;
      status.className = `status status-${job.status}`;
    }
  });
  source.addEventListener("end", () => {
    source.close();
    if (chartPending) refreshChart();
    window.location.reload();
  });
})();
