// Applies a live diff from the server (boards/views/live_diff.py) to the board: only the cards
// whose markup changed are replaced, cards that left are removed, and the fewest cards are moved,
// each right below its neighbour above (placements come in board order). Column counts and WIP
// warnings follow. Everything else keeps its element (board.js gives a replaced or moved card
// back the focus it had).
(function () {
  "use strict";

  function cardEl(root, psaId) { return root.querySelector(`.card[data-psa-id="${psaId}"]`); }

  function apply(root, diff) {
    diff.removed.forEach((psaId) => { const el = cardEl(root, psaId); if (el) el.remove(); });
    const fresh = {};
    const shownAt = String(performance.now());
    Object.entries(diff.cards).forEach(([psaId, html]) => {
      const template = document.createElement("template");
      template.innerHTML = html;
      const el = template.content.firstElementChild;
      el.querySelectorAll("[data-write]").forEach((badge) => { badge.dataset.shownAt = shownAt; });
      const old = cardEl(root, psaId);
      if (old) old.replaceWith(el);
      fresh[psaId] = el;
    });
    // In board order: each card goes right below its neighbour, placed before it.
    diff.place.forEach(([psaId, columnId, above]) => {
      const el = fresh[psaId] || cardEl(root, psaId);
      const list = root.querySelector(`ol.cards[data-column-id="${columnId}"]`);
      if (!el || !list) return;
      const neighbour = above === null ? null : cardEl(root, above);
      if (above === null) list.prepend(el);
      else if (neighbour) neighbour.after(el);
      else list.append(el);
    });
    Object.entries(diff.counts).forEach(([columnId, count]) => showCount(root, columnId, count));
  }

  function showCount(root, columnId, count) {
    const column = root.querySelector(`.column[data-column-id="${columnId}"]`);
    if (!column) return;
    const limit = column.dataset.wipLimit === undefined ? null : parseInt(column.dataset.wipLimit, 10);
    column.querySelector(".count").textContent = limit === null ? String(count) : `${count} / ${limit}`;
    const over = limit !== null && count > limit;
    column.classList.toggle("over-limit", over);
    let warning = column.querySelector(".wip-warning");
    if (over && !warning) {
      warning = document.createElement("p");
      warning.className = "wip-warning";
      warning.setAttribute("role", "status");
      column.querySelector(".column-head").after(warning);
    }
    if (over) warning.textContent = `Over the WIP limit: ${count} cards, limit ${limit}`;
    else if (warning) warning.remove();
  }

  window.TopLeftLiveDiff = { apply };
})();
