// Live progress of a host operation: while it runs, asks the API for the log
// lines after the last one shown, once a second, and appends them; the status
// and step follow. When the operation ends the page reloads, so the final page
// shows the error, facts and agent version. The page is complete without this.
(() => {
  const log = document.getElementById("host-log");
  if (log?.dataset.working !== "true") return;
  const name = log.dataset.host;
  const status = document.getElementById("host-status");
  const step = document.getElementById("host-step");
  let lastSeq = Number(log.dataset.lastSeq || 0);

  const formatTime = (iso) => iso.replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const append = (line) => {
    if (line.seq <= lastSeq) return;
    lastSeq = line.seq;
    const item = document.createElement("li");
    item.className = `log-${line.level}`;
    const time = document.createElement("time");
    time.dateTime = line.at;
    time.textContent = formatTime(line.at);
    const stepName = document.createElement("span");
    stepName.className = "step";
    stepName.textContent = `[${line.step}]`;
    const prefix = line.level === "info" ? "" : `${line.level}: `;
    item.append(time, " ", stepName, ` ${prefix}${line.message}`);
    log.append(item);
  };

  const poll = () => {
    fetch(`/api/v1/hosts/${encodeURIComponent(name)}?after=${lastSeq}`)
      .then((response) => (response.ok ? response.json() : null))
      .then((host) => {
        if (!host) return setTimeout(poll, 1000);
        for (const line of host.log) append(line);
        log.dataset.lastSeq = String(lastSeq);
        if (status && status.textContent !== host.status) {
          status.textContent = host.status;
          status.className = `status status-${host.status}`;
        }
        if (step && host.step) step.textContent = host.step;
        if (host.status === "working") setTimeout(poll, 1000);
        else window.location.reload();
      })
      .catch(() => setTimeout(poll, 1000));
  };
  // Marks the log as followed (for people reading the page's state, and for the browser test).
  log.dataset.following = "true";
  setTimeout(poll, 1000);
})();
