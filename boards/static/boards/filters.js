// The board's own filters (only for this user): applied as they are chosen, text after a short
// pause, with the URL kept in step (so a reload or the poll shows the same cards; the server
// remembers the choice per user and board). Member and company pickers search the server.
(function () {
  "use strict";

  const form = document.getElementById("filters");
  if (!form) return;
  const DEBOUNCE_MS = 300;
  const clear = form.querySelector(".clear-filters");
  let typing = null;

  function query() {
    const params = new URLSearchParams();
    new FormData(form).forEach((value, key) => { if (String(value).trim()) params.set(key, String(value).trim()); });
    // An explicit "no filters" (?q=) so the server forgets the saved ones instead of restoring them.
    return params.toString() || "q=";
  }

  function apply() {
    clearTimeout(typing);
    const search = "?" + query();
    if (search === window.location.search) return;
    history.replaceState(history.state, "", search);
    if (clear) clear.hidden = search === "?q=";
    document.dispatchEvent(new CustomEvent("topleft:filters-changed"));
  }

  form.addEventListener("change", (event) => {
    if (event.target.name && event.target.name !== "q") apply();
  });
  form.addEventListener("input", (event) => {
    if (event.target.name !== "q") return;
    clearTimeout(typing);
    typing = setTimeout(apply, DEBOUNCE_MS);
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); apply(); });

  function remotePicker(select) {
    if (typeof TomSelect === "undefined" || select.tomselect) return;
    const url = form.dataset.pickUrl.replace("/kind/", "/" + select.dataset.kind + "/");
    new TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: ["text", "identifier"],
      maxItems: 1,
      allowEmptyOption: true,
      placeholder: select.dataset.placeholder || "",
      preload: "focus",
      loadThrottle: DEBOUNCE_MS,
      shouldLoad: () => true,
      load(text, callback) {
        fetch(url + "?q=" + encodeURIComponent(text), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then((response) => (response.ok ? response.json() : { results: [] }))
          .then((data) => callback(data.results))
          .catch(() => callback());
      },
      render: {
        option: (data, escape) => `<div>${escape(data.text)}${data.identifier && data.identifier !== data.text ? ` <span class="muted">${escape(data.identifier)}</span>` : ""}</div>`,
        no_results: () => '<div class="no-results">Nothing matches</div>',
      },
    });
  }

  form.querySelectorAll("select.remote-picker").forEach(remotePicker);

  // On a narrow screen the filters fold behind a button (board.css shows it only there).
  const toggle = document.querySelector(".filters-toggle");
  if (toggle) {
    toggle.addEventListener("click", () => {
      const open = form.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
})();
