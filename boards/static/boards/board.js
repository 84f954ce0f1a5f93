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
  let snapshot = cfg.snapshot || ""; // names what this page shows: polls get a diff against it
  let dragging = false;
  let busy = false; // a move is in flight: its refresh will follow
  let pendingRefresh = false;
  let sortables = [];
  let renderedAt = performance.now(); // when the cards' write ages (data-age) were measured
  const DELAYED_AFTER_MS = (parseInt(cfg.delayedAfter, 10) || 30) * 1000;
  const SAVED_SHOWN_MS = (parseInt(cfg.savedFor, 10) || 6) * 1000;
  const UNDO_MS = 10000; // a close waits this long in the browser before it is sent
  const undoStack = document.getElementById("undo-stack");
  const pendingCloses = new Map(); // psa id -> {label, url, body, timer, countdown, item}
  const collapsedKey = "topleft:collapsed-columns:" + cfg.boardId;

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
    const scroll = {};
    root.querySelectorAll(".cards").forEach((ol) => { scroll[ol.dataset.columnId] = ol.scrollTop; });
    const columns = root.querySelector("#columns");
    const left = columns ? columns.scrollLeft : 0;
    const pageY = window.scrollY;
    root.innerHTML = html;
    root.querySelectorAll(".cards").forEach((ol) => {
      if (scroll[ol.dataset.columnId] !== undefined) ol.scrollTop = scroll[ol.dataset.columnId];
    });
    const fresh = root.querySelector("#columns");
    if (fresh) fresh.scrollLeft = left;
    window.scrollTo(window.scrollX, pageY);
    renderedAt = performance.now();
    initSortables();
  }

  // A redraw (full or diff) replaces or moves card elements, which drops the focus: the card
  // that had it gets it back.
  function keepingFocus(redraw) {
    const focused = document.activeElement && document.activeElement.closest(".card");
    const focusedId = focused ? focused.dataset.psaId : null;
    redraw();
    const again = focusedId && root.querySelector(`.card[data-psa-id="${focusedId}"]`);
    if (again && document.activeElement !== again) again.focus({ preventScroll: true });
  }

  // Everything the server's markup does not know: time-based write states, cards waiting for
  // their close to be sent, and the columns this user collapsed.
  function decorate() {
    tickWriteStates();
    markClosing();
    applyCollapsed();
  }

  // ---- write states (pending -> delayed, saved -> gone) -------------------------------------
  function tickWriteStates() {
    const now = performance.now();
    root.querySelectorAll("[data-write]").forEach((badge) => {
      // A card redrawn by a diff measured its age then, not at the last full redraw.
      const shownAt = badge.dataset.shownAt ? parseFloat(badge.dataset.shownAt) : renderedAt;
      const age = (parseInt(badge.dataset.age, 10) || 0) * 1000 + (now - shownAt);
      const card = badge.closest(".card");
      if (badge.dataset.write === "pending" && age >= DELAYED_AFTER_MS) {
        badge.dataset.write = "delayed";
        badge.className = "card-write delayed";
        badge.textContent = badge.dataset.delayedLabel;
        if (card) { card.classList.remove("write-pending"); card.classList.add("write-delayed"); }
      } else if (badge.dataset.write === "saved" && age >= SAVED_SHOWN_MS) {
        badge.remove();
        if (card) card.classList.remove("write-saved");
      }
    });
  }

  // `force`: the whole board again (filters changed, a move was refused and must snap back);
  // otherwise 304 while nothing changed, and a diff against what this page shows when it did.
  // One at a time: each asks against the snapshot the one before it left (a poll and a move's
  // refresh in flight together would both diff against the same snapshot).
  let refreshing = Promise.resolve();
  function refresh(force) {
    const run = refreshing.then(() => refreshNow(force));
    refreshing = run.catch(() => {});
    return run;
  }

  async function refreshNow(force) {
    const headers = force ? {} : { "If-None-Match": etag, "X-Board-Since": snapshot };
    let response;
    try {
      response = await fetch(columnsUrl(), { headers, cache: "no-store", credentials: "same-origin" });
    } catch (err) {
      return; // offline for a moment: the next poll tries again
    }
    if (response.status === 304) return;
    if (response.redirected || response.status === 403) { window.location.reload(); return; }
    if (!response.ok) return;
    const isDiff = (response.headers.get("Content-Type") || "").startsWith("application/json");
    const body = isDiff ? await response.json() : await response.text();
    if (dragging) { pendingRefresh = true; return; } // keep etag and snapshot: the next poll asks again
    etag = response.headers.get("ETag") || etag;
    snapshot = response.headers.get("X-Board-Snapshot") || "";
    root.dataset.etag = etag;
    const started = performance.now();
    keepingFocus(() => {
      if (isDiff) window.TopLeftLiveDiff.apply(root, body.diff);
      else applyColumns(body);
    });
    decorate();
    root.dispatchEvent(new CustomEvent("topleft:redrawn"));
    // For the benchmarks (and the curious): what the last live update cost this page.
    root.dataset.applyMs = (performance.now() - started).toFixed(1);
    root.dataset.updates = String((parseInt(root.dataset.updates, 10) || 0) + 1);
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
    let accepted = false;
    try {
      const { status, data } = await postJson(cfg.movesUrl, body);
      if (status === 409 && data.choices && data.choices.length) {
        chooseStatus(body, data);
        return;
      }
      accepted = status === 200;
      if (!accepted) toast(data.message || data.detail || "The move was refused.", true);
    } catch (err) {
      toast("The move could not be sent; the board was reloaded.", true);
    } finally {
      busy = false;
    }
    // A refused move snaps back with the whole board; an accepted one arrives as a diff.
    await refresh(!accepted);
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
    const column = evt.to.closest(".column");
    if (evt.from !== evt.to && column && column.dataset.closes === "1") confirmDropClose(body, column.ariaLabel);
    else sendMove(body);
  }

  // A drop into a column of closed statuses closes the card: ask first, then allow an undo.
  function confirmDropClose(body, columnName) {
    dialogBody.innerHTML = "";
    const title = document.createElement("h2");
    title.id = "dialog-title";
    title.textContent = `Close #${body.card} as “${columnName}”?`;
    const hint = document.createElement("p");
    hint.className = "muted";
    hint.textContent = "You can undo for 10 seconds; nothing is sent to the PSA before then.";
    const buttons = document.createElement("div");
    buttons.className = "choices confirm-drop";
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger solid";
    yes.textContent = "Yes, close it";
    const no = document.createElement("button");
    no.type = "button";
    no.textContent = "Keep it open";
    buttons.append(yes, no);
    dialogBody.append(title, hint, buttons);
    let decided = false;
    yes.addEventListener("click", () => {
      decided = true;
      dialog.close();
      scheduleClose(body.card, columnName, cfg.movesUrl, body);
    });
    no.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => { if (!decided) refresh(true); }, { once: true });
    openDialog();
    yes.focus();
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
    await refresh(false); // nothing moved in this page before the answer: a diff will do
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
    if (!button) return;
    if (button.dataset.action === "collapse") { toggleCollapsed(button.closest(".column")); return; }
    const card = event.target.closest(".card");
    if (!card) return;
    const psaId = parseInt(card.dataset.psaId, 10);
    if (button.dataset.action === "open") openCard(psaId);
    else if (button.dataset.action === "retry") retry(psaId, button);
    else if (button.dataset.action === "top" || button.dataset.action === "bottom") sendTo(psaId, button.dataset.action);
  });

  async function retry(psaId, button) {
    button.disabled = true;
    button.textContent = "Sending…";
    busy = true;
    try {
      const { status, data } = await postJson(cardApiUrl(psaId, "retry"), {});
      if (status !== 202) toast(data.detail || data.message || "Could not send it again.", true);
    } catch (err) {
      toast("Could not reach TopLeft; try again in a moment.", true);
    } finally {
      busy = false;
    }
    await refresh(false);
  }

  function cardApiUrl(psaId, action) { return cfg.cardApiUrl + psaId + "/" + action + "/"; }

  // ---- closing: confirm, then 10 s to undo before anything is queued for the PSA ------------
  function askToClose(form) {
    const section = form.closest(".close-section");
    const confirmBox = section.querySelector(".confirm-close");
    const select = form.elements.status;
    confirmBox.querySelector("[data-status-name]").textContent = select.options[select.selectedIndex].text;
    form.hidden = true;
    confirmBox.hidden = false;
    confirmBox.querySelector("[data-action=confirm-close]").focus();
  }

  // `label` names where the card goes ("Closed"); `url` and `body` are the request sent once the
  // undo window has passed: the card's close, or the drop into a closing column.
  function scheduleClose(psaId, label, url, body) {
    if (pendingCloses.has(psaId)) return;
    const item = document.createElement("div");
    item.className = "undo-item";
    item.setAttribute("role", "status");
    const text = document.createElement("span");
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "undo";
    undo.textContent = "Undo";
    item.append(text, undo);
    undoStack.appendChild(item);
    const pending = { label, url, body, item, secondsLeft: UNDO_MS / 1000 };
    const say = () => { text.textContent = `Closing #${psaId} as “${label}” in ${pending.secondsLeft} s`; };
    say();
    pending.countdown = setInterval(() => { pending.secondsLeft = Math.max(0, pending.secondsLeft - 1); say(); }, 1000);
    pending.timer = setTimeout(() => sendClose(psaId), UNDO_MS);
    undo.addEventListener("click", () => undoClose(psaId));
    pendingCloses.set(psaId, pending);
    markClosing();
    undo.focus();
  }

  function forget(psaId) {
    const pending = pendingCloses.get(psaId);
    if (!pending) return null;
    clearTimeout(pending.timer);
    clearInterval(pending.countdown);
    pending.item.remove();
    pendingCloses.delete(psaId);
    markClosing();
    return pending;
  }

  function undoClose(psaId) {
    if (!forget(psaId)) return;
    toast(`Close of #${psaId} undone: nothing was sent to the PSA.`);
    refresh(true); // a dropped card goes back where it was
  }

  async function sendClose(psaId) {
    const pending = forget(psaId);
    if (!pending) return;
    busy = true;
    try {
      const { status, data } = await postJson(pending.url, pending.body);
      if (status === 409 && data.choices && data.choices.length) { chooseStatus(pending.body, data); return; }
      if (status !== 202 && status !== 200) toast(data.detail || data.message || "The close was refused.", true);
    } catch (err) {
      toast(`#${psaId} could not be closed: TopLeft did not answer. Try again.`, true);
    } finally {
      busy = false;
    }
    await refresh(true);
  }

  function markClosing() {
    root.querySelectorAll(".card").forEach((card) => {
      const pending = pendingCloses.get(parseInt(card.dataset.psaId, 10));
      card.classList.toggle("closing", !!pending);
      let badge = card.querySelector(".closing-badge");
      if (pending && !badge) {
        badge = document.createElement("p");
        badge.className = "closing-badge";
        badge.textContent = `Closing as “${pending.label}” — undo below`;
        card.insertBefore(badge, card.querySelector(".card-actions"));
      } else if (!pending && badge) {
        badge.remove();
      }
    });
  }

  // Leaving the page ends the chance to undo: send what is waiting instead of dropping it.
  window.addEventListener("pagehide", () => {
    pendingCloses.forEach((pending, psaId) => {
      fetch(pending.url, {
        method: "POST", headers: csrfHeaders(), body: JSON.stringify(pending.body),
        credentials: "same-origin", keepalive: true,
      });
    });
    pendingCloses.clear();
  });

  // ---- collapsible columns (remembered in this browser) -------------------------------------
  function collapsedIds() {
    try { return new Set(JSON.parse(localStorage.getItem(collapsedKey) || "[]")); } catch (err) { return new Set(); }
  }

  function toggleCollapsed(column) {
    const ids = collapsedIds();
    const id = column.dataset.columnId;
    if (ids.has(id)) ids.delete(id); else ids.add(id);
    try { localStorage.setItem(collapsedKey, JSON.stringify(Array.from(ids))); } catch (err) { /* private mode */ }
    applyCollapsed();
  }

  function applyCollapsed() {
    const ids = collapsedIds();
    root.querySelectorAll(".column[data-column-id]").forEach((column) => {
      const collapsed = ids.has(column.dataset.columnId);
      column.classList.toggle("collapsed", collapsed);
      const toggle = column.querySelector("[data-action=collapse]");
      if (toggle) toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
    });
  }

  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=close-dialog]") || event.target === dialog) { dialog.close(); return; }
    const section = event.target.closest(".close-section");
    if (!section) return;
    const form = section.querySelector("form.close-form");
    if (event.target.closest("[data-action=cancel-close]")) {
      section.querySelector(".confirm-close").hidden = true;
      form.hidden = false;
    } else if (event.target.closest("[data-action=confirm-close]")) {
      const select = form.elements.status;
      dialog.close();
      const psaId = parseInt(form.dataset.psaId, 10);
      const statusName = select.options[select.selectedIndex].text;
      scheduleClose(psaId, statusName, cardApiUrl(psaId, "close"), { status: parseInt(select.value, 10) });
    }
  });

  // A closed dialog stops asking for notes still on their way from the PSA.
  dialog.addEventListener("close", () => {
    const polling = dialogBody.querySelector("#card-thread[hx-get]");
    if (polling) polling.remove();
  });

  dialog.addEventListener("submit", (event) => {
    const closeForm = event.target.closest("form.close-form");
    if (closeForm) { event.preventDefault(); askToClose(closeForm); return; }
    const form = event.target.closest("form.move-form");
    if (!form) return;
    event.preventDefault();
    dialog.close();
    sendMove({ card: parseInt(form.dataset.psaId, 10), column: parseInt(form.elements.column.value, 10) });
  });

  // ---- what keyboard.js drives: a move to a column goes the same way as a drop there ----------
  const announcer = document.getElementById("announcer");

  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    setTimeout(() => { announcer.textContent = text; }, 50); // a change screen readers notice
  }

  async function moveToColumn(card, column) {
    const psaId = parseInt(card.dataset.psaId, 10);
    const body = { card: psaId, column: parseInt(column.dataset.columnId, 10) };
    const name = column.getAttribute("aria-label");
    if (column.dataset.closes === "1") { confirmDropClose(body, name); return; }
    await sendMove(body);
    const moved = root.querySelector(`.card[data-psa-id="${psaId}"]`);
    if (moved && moved.closest(".column") && moved.closest(".column").dataset.columnId === column.dataset.columnId) {
      announce(`#${psaId} moved to ${name}.`);
    }
  }

  root.boardActions = { openCard, moveByKeyboard, moveToColumn, announce };

  // The user changed their filters (filters.js): the URL holds them; show their cards now.
  document.addEventListener("topleft:filters-changed", () => refresh(true));

  decorate();
  setInterval(tickWriteStates, 1000);
  initSortables();
  poll();
  root.dataset.ready = "1"; // lets tests (and curious users) know drag and live updates are on
})();
