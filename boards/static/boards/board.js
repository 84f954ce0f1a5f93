// The live kanban board: drag (SortableJS), keyboard actions, and ETag polling that never
// interrupts a drag or loses the user's scroll position.
(function () {
  "use strict";

  const root = document.getElementById("board");
  if (!root) return;
  const cfg = root.dataset;
  const manual = cfg.manual === "1";
  const dialog = document.getElementById("card-dialog");
  const dialogBody = document.getElementById("dialog-body");
  const toastEl = document.getElementById("toast");
  let etag = cfg.etag;
  let dragging = false;
  let busy = false; // a move is in flight: its refresh will follow
  let pendingRefresh = false;
  let sortables = [];

  function csrfHeaders() {
    return { "Content-Type": "application/json", "X-CSRFToken": cfg.csrf, "Accept": "application/json" };
  }

  function toast(message, isError) {
    toastEl.textContent = message;
    toastEl.classList.toggle("error", !!isError);
    toastEl.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { toastEl.hidden = true; }, 6000);
  }

  // ---- rendering ------------------------------------------------------------------------
  function columnsUrl() { return cfg.columnsUrl + window.location.search; }

  function applyColumns(html) {
    if (dragging) { pendingRefresh = true; return; }
    const scroll = {};
    root.querySelectorAll(".cards").forEach((ol) => { scroll[ol.dataset.columnId] = ol.scrollTop; });
    const columns = root.querySelector("#columns");
    const left = columns ? columns.scrollLeft : 0;
    const focused = document.activeElement && document.activeElement.closest(".card");
    const focusedId = focused ? focused.dataset.psaId : null;
    const pageY = window.scrollY;
    root.innerHTML = html;
    root.querySelectorAll(".cards").forEach((ol) => {
      if (scroll[ol.dataset.columnId] !== undefined) ol.scrollTop = scroll[ol.dataset.columnId];
    });
    const fresh = root.querySelector("#columns");
    if (fresh) fresh.scrollLeft = left;
    window.scrollTo(window.scrollX, pageY);
    if (focusedId) {
      const again = root.querySelector(`.card[data-psa-id="${focusedId}"]`);
      if (again) again.focus({ preventScroll: true });
    }
    initSortables();
  }

  async function refresh(force) {
    const headers = force ? {} : { "If-None-Match": etag };
    let response;
    try {
      response = await fetch(columnsUrl(), { headers, cache: "no-store", credentials: "same-origin" });
    } catch (err) {
      return; // offline for a moment: the next poll tries again
    }
    if (response.status === 304) return;
    if (response.redirected || response.status === 403) { window.location.reload(); return; }
    if (!response.ok) return;
    const html = await response.text();
    etag = response.headers.get("ETag") || etag;
    root.dataset.etag = etag;
    applyColumns(html);
  }

  function poll() {
    const interval = parseInt(cfg.pollMs, 10) || 1000;
    const tick = async () => {
      if (!dragging && !busy && !document.hidden) await refresh(false);
      setTimeout(tick, interval);
    };
    setTimeout(tick, interval);
  }

  // ---- moves --------------------------------------------------------------------------
  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST", headers: csrfHeaders(), body: JSON.stringify(body), credentials: "same-origin",
    });
    let data = {};
    try { data = await response.json(); } catch (err) { data = {}; }
    return { status: response.status, data };
  }

  async function sendMove(body) {
    busy = true;
    try {
      const { status, data } = await postJson(cfg.movesUrl, body);
      if (status === 409 && data.choices && data.choices.length) {
        chooseStatus(body, data);
        return;
      }
      if (status !== 200) toast(data.message || data.detail || "The move was refused.", true);
    } catch (err) {
      toast("The move could not be sent; the board was reloaded.", true);
    } finally {
      busy = false;
    }
    await refresh(true); // snaps back on refusal, shows the new state otherwise
  }

  function neighbours(item) {
    const prev = item.previousElementSibling;
    const next = item.nextElementSibling;
    return {
      above: prev ? parseInt(prev.dataset.psaId, 10) : null,
      below: next ? parseInt(next.dataset.psaId, 10) : null,
    };
  }

  function onDragEnd(evt) {
    dragging = false;
    const moved = evt.from !== evt.to || evt.oldIndex !== evt.newIndex;
    if (!moved) { if (pendingRefresh) { pendingRefresh = false; refresh(true); } return; }
    pendingRefresh = false;
    const body = { card: parseInt(evt.item.dataset.psaId, 10), column: parseInt(evt.to.dataset.columnId, 10) };
    if (manual) Object.assign(body, neighbours(evt.item));
    sendMove(body);
  }

  function initSortables() {
    sortables.forEach((s) => s.destroy());
    if (typeof Sortable === "undefined") return;
    sortables = Array.from(root.querySelectorAll(".cards")).map((list) => Sortable.create(list, {
      group: "cards", sort: manual, animation: 120, filter: "button", preventOnFilter: false,
      // Pointer-driven dragging behaves the same with mouse, touch and pen in every browser.
      forceFallback: true, fallbackTolerance: 3,
      onStart: () => { dragging = true; },
      onEnd: onDragEnd,
    }));
  }

  // ---- dialogs --------------------------------------------------------------------------
  function openDialog() { if (!dialog.open) dialog.showModal(); }

  function chooseStatus(body, data) {
    dialogBody.innerHTML = "";
    const title = document.createElement("h2");
    title.id = "dialog-title";
    title.textContent = data.message || "Choose a status";
    dialogBody.appendChild(title);
    const list = document.createElement("div");
    list.className = "choices";
    data.choices.forEach((choice) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = choice.name;
      button.addEventListener("click", () => { dialog.close(); sendMove(Object.assign({}, body, { status: choice.id })); });
      list.appendChild(button);
    });
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => { dialog.close(); refresh(true); });
    list.appendChild(cancel);
    dialogBody.appendChild(list);
    openDialog();
    list.querySelector("button").focus();
  }

  function openCard(psaId) {
    htmx.ajax("GET", cfg.cardUrl + psaId + "/", { target: "#dialog-body" }).then(openDialog);
  }

  async function sendTo(psaId, where) {
    busy = true;
    try {
      const { status, data } = await postJson(cfg.ranksUrl, { card: psaId, to: where });
      if (status !== 200) toast(data.message || data.detail || "Could not rank the card.", true);
    } finally {
      busy = false;
    }
    await refresh(true);
  }

  function moveByKeyboard(card, direction) {
    const target = direction < 0 ? card.previousElementSibling : card.nextElementSibling;
    if (!target || !manual) return;
    const psaId = parseInt(card.dataset.psaId, 10);
    const other = parseInt(target.dataset.psaId, 10);
    sendMove(direction < 0 ? { card: psaId, below: other } : { card: psaId, above: other });
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    const card = event.target.closest(".card");
    if (!button || !card) return;
    const psaId = parseInt(card.dataset.psaId, 10);
    if (button.dataset.action === "open") openCard(psaId);
    else if (button.dataset.action === "top" || button.dataset.action === "bottom") sendTo(psaId, button.dataset.action);
  });

  root.addEventListener("keydown", (event) => {
    const card = event.target.closest && event.target.closest(".card");
    if (!card || event.target !== card) return;
    if (event.key === "Enter") { event.preventDefault(); openCard(parseInt(card.dataset.psaId, 10)); }
    if (event.altKey && event.key === "ArrowUp") { event.preventDefault(); moveByKeyboard(card, -1); }
    if (event.altKey && event.key === "ArrowDown") { event.preventDefault(); moveByKeyboard(card, 1); }
  });

  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=close-dialog]") || event.target === dialog) dialog.close();
  });

  dialog.addEventListener("submit", (event) => {
    const form = event.target.closest("form.move-form");
    if (!form) return;
    event.preventDefault();
    dialog.close();
    sendMove({ card: parseInt(form.dataset.psaId, 10), column: parseInt(form.elements.column.value, 10) });
  });

  initSortables();
  poll();
  root.dataset.ready = "1"; // lets tests (and curious users) know drag and live updates are on
})();
