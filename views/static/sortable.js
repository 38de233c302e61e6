// Sorts the tests table in place. Without this script the column headers
// are links that sort on the server (?sort=); with it they become buttons,
// so the keyboard (Tab, Enter, Space) sorts without a page load.
(() => {
  const table = document.querySelector("table.sortable");
  if (!table) return;
  const body = table.tBodies[0];
  const numeric = new Set(["peak", "duration"]);
  for (const th of table.querySelectorAll("th[data-sort-key]")) {
    const key = th.dataset.sortKey;
    const link = th.querySelector("a");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = link ? link.firstChild.textContent : th.textContent;
    const arrow = document.createElement("span");
    arrow.setAttribute("aria-hidden", "true");
    button.append(arrow);
    th.replaceChildren(button);
    button.addEventListener("click", () => {
      const current = th.getAttribute("aria-sort");
      const direction = current === "descending" ? "ascending" : "descending";
      const sign = direction === "ascending" ? 1 : -1;
      const rows = [...body.rows];
      rows.sort((a, b) => {
        const left = a.dataset[key];
        const right = b.dataset[key];
        // Unmeasured values sort last either way.
        if (left === "" || right === "") return left === right ? 0 : left === "" ? 1 : -1;
        const order = numeric.has(key) ? Number(left) - Number(right) : left.localeCompare(right);
        return sign * order || a.dataset.name.localeCompare(b.dataset.name);
      });
      body.append(...rows);
      for (const other of table.querySelectorAll("th[data-sort-key]")) {
        other.removeAttribute("aria-sort");
        other.querySelector(".sort span").textContent = "";
      }
      th.setAttribute("aria-sort", direction);
      arrow.textContent = direction === "ascending" ? " ▲" : " ▼";
    });
    if (th.getAttribute("aria-sort")) {
      arrow.textContent = th.getAttribute("aria-sort") === "ascending" ? " ▲" : " ▼";
    }
  }
})();
