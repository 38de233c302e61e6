// Keeps the first page of the job list live: a submitted job appears at the
// top, and a job's row changes as its state does. Rows are rendered by the
// server (/jobs/:id/row), so they look exactly like the rest of the list.
(() => {
  const table = document.getElementById("jobs");
  if (table?.dataset.live !== "true" || !window.EventSource) return;
  const body = table.tBodies[0];
  const filter = table.dataset;
  const matches = (job) =>
    (!filter.status || job.status === filter.status) &&
    (!filter.suite || job.suite === filter.suite) &&
    (!filter.agent || job.agent === filter.agent) &&
    (!filter.ref || job.ref === filter.ref);

  const refreshRow = (job) => {
    const existing = document.getElementById(`job-row-${job.id}`);
    if (!existing && !matches(job)) return;
    fetch(`/jobs/${job.id}/row`)
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (html === null) return;
        const holder = document.createElement("tbody");
        holder.innerHTML = html.trim();
        const row = holder.firstElementChild;
        if (!row) return;
        const current = document.getElementById(`job-row-${job.id}`);
        if (current) current.replaceWith(row);
        else {
          // Newest first: before the first row with a smaller id.
          const later = [...body.rows].find((other) => Number(other.dataset.job) < job.id);
          body.insertBefore(row, later || null);
        }
        table.hidden = false;
        const empty = document.getElementById("no-jobs");
        if (empty) empty.hidden = true;
      })
      .catch(() => {
        // A missed update shows on the next event or reload.
      });
  };

  const source = new EventSource("/api/v1/events");
  // Marks the list as live (for people reading the page's state, and for the browser test).
  source.addEventListener("open", () => {
    table.dataset.connected = "true";
  });
  source.addEventListener("job", (event) => refreshRow(JSON.parse(event.data)));
})();
