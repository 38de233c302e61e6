// "Copy as Markdown": a button copies the text of the element its data-copy names. Without
// clipboard permission (or JavaScript) the text is in the <details> beside it, to select by hand.

for (const button of document.querySelectorAll("button.copy[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  if (!source) continue;
  const state = button.closest("section")?.querySelector(".copy-state");
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.textContent);
      if (state) state.textContent = "Copied.";
    } catch {
      // No clipboard (plain http to another host, or permission refused): show the text, selected.
      const details = source.closest("details");
      if (details) details.open = true;
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      if (state)
        state.textContent =
          "The browser did not allow copying: the text is shown and selected, copy it with Ctrl+C.";
    }
  });
}
