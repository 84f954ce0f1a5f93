// The board configuration page: searchable pickers (Tom Select), columns ordered by drag
// (SortableJS) or by the ↑ ↓ buttons, added and removed in place; status and team pickers offer
// only the PSA boards chosen above. The server checks everything again when the form is saved.
(function () {
  "use strict";

  const form = document.getElementById("board-config");
  if (!form) return;
  const list = document.getElementById("column-list");
  const template = document.getElementById("column-template");
  const total = form.querySelector("input[name=col-TOTAL_FORMS]");
  const boardPicker = form.querySelector("select[name=psa_board_ids]");
  const masters = new Map(); // select element -> every option it may offer [{value, text, board}]

  // ---- pickers ------------------------------------------------------------------------------
  function chosenBoards() {
    if (!boardPicker) return new Set();
    return new Set(Array.from(boardPicker.selectedOptions).map((o) => o.value));
  }

  function narrowToBoards(select) {
    const master = masters.get(select);
    if (!master || !select.tomselect) return;
    const boards = chosenBoards();
    const allowed = master.filter((o) => !boards.size || !o.board || boards.has(o.board));
    const ts = select.tomselect;
    ts.clearOptions(); // keeps the selected ones
    allowed.forEach((o) => ts.addOption(o));
    ts.refreshOptions(false);
    const allowedValues = new Set(allowed.map((o) => o.value));
    ts.items.forEach((value) => {
      const item = ts.getItem(value);
      if (!item) return;
      const foreign = !allowedValues.has(value);
      item.classList.toggle("foreign", foreign);
      item.title = foreign ? "Not on the chosen PSA boards: remove it or add its board" : "";
    });
  }

  // Which other column already holds each status, so the list says so before the server refuses.
  function statusesUsedElsewhere(select) {
    const used = new Map();
    rows().filter((row) => !row.hidden).forEach((row) => {
      const other = row.querySelector("select.status-picker");
      if (!other || other === select) return;
      const name = row.querySelector("input[name$='-name']").value || "another column";
      Array.from(other.selectedOptions).forEach((o) => used.set(o.value, name));
    });
    return used;
  }

  function picker(select) {
    if (select.tomselect || typeof TomSelect === "undefined") return;
    const tagged = Array.from(select.options).some((o) => o.dataset.board);
    if (tagged) {
      masters.set(select, Array.from(select.options).map((o) => ({ value: o.value, text: o.text, board: o.dataset.board })));
    }
    const isStatus = select.classList.contains("status-picker");
    let used = new Map();
    const render = { no_results: () => '<div class="no-results">Nothing matches</div>' };
    if (isStatus) {
      render.option = (data, escape) => {
        const where = used.get(String(data.value));
        const note = where ? ` <span class="used-in">in “${escape(where)}”</span>` : "";
        return `<div>${escape(data.text)}${note}</div>`;
      };
    }
    new TomSelect(select, {
      plugins: ["remove_button"],
      maxOptions: null,
      hidePlaceholder: true,
      placeholder: select.dataset.placeholder || "",
      closeAfterSelect: false,
      render,
      onDropdownOpen() {
        if (!isStatus) return;
        used = statusesUsedElsewhere(select);
        this.clearCache("option");
        this.refreshOptions(false);
      },
    });
    if (tagged) narrowToBoards(select);
  }

  function initPickers(scope) {
    scope.querySelectorAll("select.picker").forEach(picker);
  }

  // ---- column rows --------------------------------------------------------------------------
  function rows() { return Array.from(list.querySelectorAll(".column-row")); }

  function renumber() {
    rows().forEach((row, index) => {
      const order = row.querySelector("input[name$='-ORDER']");
      if (order) order.value = String(index + 1);
    });
  }

  function addColumn() {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const row = list.lastElementChild;
    initPickers(row);
    renumber();
    row.querySelector("input[name$='-name']").focus();
  }

  function removeColumn(row) {
    const box = row.querySelector("input[name$='-DELETE']");
    if (box) box.checked = true;
    row.hidden = true;
    row.classList.add("removed");
    list.after(removalNotice(row));
  }

  function removalNotice(row) {
    const name = row.querySelector("input[name$='-name']").value || "Untitled column";
    const note = document.createElement("p");
    note.className = "removed-note";
    note.setAttribute("role", "status");
    note.textContent = `“${name}” will be removed when you save. `;
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "link";
    undo.textContent = "Keep it";
    undo.addEventListener("click", () => {
      row.querySelector("input[name$='-DELETE']").checked = false;
      row.hidden = false;
      row.classList.remove("removed");
      note.remove();
    });
    note.appendChild(undo);
    return note;
  }

  function moveRow(row, direction) {
    const visible = rows().filter((r) => !r.hidden);
    const at = visible.indexOf(row);
    const other = visible[at + direction];
    if (!other) return;
    if (direction < 0) other.before(row); else other.after(row);
    renumber();
    row.querySelector(`[data-move=${direction < 0 ? "up" : "down"}]`).focus();
  }

  list.addEventListener("click", (event) => {
    const row = event.target.closest(".column-row");
    if (!row) return;
    const move = event.target.closest("[data-move]");
    if (move) moveRow(row, move.dataset.move === "up" ? -1 : 1);
    else if (event.target.closest("[data-remove]")) removeColumn(row);
  });

  document.getElementById("add-column").addEventListener("click", addColumn);
  form.addEventListener("submit", renumber);

  function start() {
    initPickers(form);
    if (boardPicker && boardPicker.tomselect) {
      boardPicker.tomselect.on("change", () => masters.forEach((_, select) => narrowToBoards(select)));
    }
    if (typeof Sortable !== "undefined") {
      Sortable.create(list, {
        handle: ".drag-handle", animation: 150, ghostClass: "row-ghost", onEnd: renumber,
        forceFallback: true, fallbackTolerance: 3, // the same pointer dragging as the board's cards
      });
    }
    renumber();
    form.dataset.ready = "1"; // lets tests know the pickers and dragging are on
  }

  start();
})();

// The new-board form: "Columns from" only means something for opportunity boards.
(function () {
  "use strict";
  const kind = document.querySelector("select[name=kind]");
  const source = document.querySelector("select[name=column_source]");
  if (!kind || !source) return;
  const wrapper = source.closest("div") || source.parentElement;
  function sync() {
    const opportunity = kind.value === "opportunity";
    wrapper.hidden = !opportunity;
    if (!opportunity) source.value = "status";
  }
  kind.addEventListener("change", sync);
  sync();
})();
