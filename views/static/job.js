// Live updates of a job page: appends new log lines and reloads when the job
// changes state. The page is complete without this script.
(() => {
  const log = document.getElementById("log");
  if (!log || log.dataset.final === "true" || !window.EventSource) return;
  const jobId = log.dataset.job;
  const status = document.getElementById("job-status");
  let lastLine = Number(log.dataset.lastLine || 0);
  const source = new EventSource(`/api/v1/jobs/${jobId}/events?fromLine=${lastLine}`);
  source.addEventListener("log", (event) => {
    const { lines } = JSON.parse(event.data);
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    for (const line of lines) {
      if (line.lineNo <= lastLine) continue;
      lastLine = line.lineNo;
      const span = document.createElement("span");
      span.className = line.stream;
      span.textContent = line.text;
      log.append(span, "\n");
    }
    if (atBottom) log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("job", (event) => {
    const job = JSON.parse(event.data);
    if (status && status.textContent !== job.status) {
      status.textContent = job.status;
      status.className = `status status-${job.status}`;
    }
  });
  source.addEventListener("end", () => {
    source.close();
    // The final page has the result, the chart and the failed tests.
    window.location.reload();
  });
})();
