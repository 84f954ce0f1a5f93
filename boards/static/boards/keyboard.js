// The board from the keyboard: one tab stop for all the cards (a roving tabindex: Tab leaves the
// board, the arrows move between cards and columns), Enter opens the card, Alt+↑/↓ move it within
// its column and Shift+←/→ or [ / ] to the previous / next column through the same move service
// as a drag, and ? lists the shortcuts. board.js exposes the actions (root.boardActions) and
// announces every redraw (topleft:redrawn), after which the tab stop is put right again.
(function () {
  "use strict";

  const root = document.getElementById("board");
  if (!root) return;
  const shortcuts = document.getElementById("shortcuts");
  let current = null; // psa id of the card that holds the tab stop

  const cardsOf = (column) => Array.from(column.querySelectorAll(".card"));
  const allColumns = () => Array.from(root.querySelectorAll(".column[data-column-id]"));
  const openColumns = () => allColumns().filter((c) => !c.classList.contains("collapsed"));

  // Exactly one card is in the tab order: the one last focused, else the first card.
  function rove() {
    const cards = root.querySelectorAll(".card");
    let holder = current && root.querySelector(`.card[data-psa-id="${current}"]`);
    if (!holder || holder.closest(".column.collapsed")) holder = root.querySelector(".column:not(.collapsed) .card");
    cards.forEach((card) => {
      const wanted = card === holder ? "0" : "-1";
      if (card.getAttribute("tabindex") !== wanted) card.setAttribute("tabindex", wanted);
    });
  }

  function focusCard(card) {
    if (!card) return;
    current = card.dataset.psaId;
    rove();
    card.focus();
  }

  // The card at the same height in the nearest column that has cards, `step` columns away.
  function across(card, step) {
    const columns = openColumns();
    const here = cardsOf(card.closest(".column")).indexOf(card);
    for (let i = columns.indexOf(card.closest(".column")) + step; i >= 0 && i < columns.length; i += step) {
      const cards = cardsOf(columns[i]);
      if (cards.length) return cards[Math.min(here, cards.length - 1)];
    }
    return null;
  }

  function moveToNeighbour(card, step) {
    const columns = allColumns();
    const target = columns[columns.indexOf(card.closest(".column")) + step];
    if (!target) {
      root.boardActions.announce(step > 0 ? "This is the last column." : "This is the first column.");
      return;
    }
    root.boardActions.moveToColumn(card, target);
  }

  root.addEventListener("focusin", (event) => {
    const card = event.target.closest(".card");
    if (card && event.target === card && current !== card.dataset.psaId) {
      current = card.dataset.psaId;
      rove();
    }
  });

  root.addEventListener("keydown", (event) => {
    const card = event.target.closest && event.target.closest(".card");
    if (!card || event.target !== card) return;
    if (event.key === "Enter") { event.preventDefault(); root.boardActions.openCard(parseInt(card.dataset.psaId, 10)); return; }
    if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      event.preventDefault();
      root.boardActions.moveByKeyboard(card, event.key === "ArrowUp" ? -1 : 1);
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const cards = cardsOf(card.closest(".column"));
    const index = cards.indexOf(card);
    let target = null;
    switch (event.key) {
      case "ArrowDown": target = cards[index + 1]; break;
      case "ArrowUp": target = cards[index - 1]; break;
      case "Home": target = cards[0]; break;
      case "End": target = cards[cards.length - 1]; break;
      case "ArrowRight":
      case "ArrowLeft": {
        const step = event.key === "ArrowRight" ? 1 : -1;
        if (event.shiftKey) { event.preventDefault(); moveToNeighbour(card, step); return; }
        target = across(card, step);
        break;
      }
      case "]": event.preventDefault(); moveToNeighbour(card, 1); return;
      case "[": event.preventDefault(); moveToNeighbour(card, -1); return;
      default: return;
    }
    event.preventDefault();
    focusCard(target);
  });

  // ? anywhere on the page (but not while typing) shows the shortcuts.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "?" || !shortcuts || shortcuts.open) return;
    const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (typing || document.querySelector("dialog[open]")) return;
    event.preventDefault();
    shortcuts.showModal();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=shortcuts]") && shortcuts) shortcuts.showModal();
    else if (event.target.closest("[data-action=close-shortcuts]")) shortcuts.close();
  });

  root.addEventListener("topleft:redrawn", rove);
  rove();
})();
