// Site-wide header behaviour: the board switcher (its list arrives by htmx when first opened).
(function () {
  "use strict";

  document.addEventListener("input", (event) => {
    const filter = event.target.closest(".switcher-filter");
    if (!filter) return;
    const words = filter.value.trim().toLowerCase();
    filter.closest(".switcher-menu").querySelectorAll("li").forEach((item) => {
      item.hidden = words !== "" && !item.textContent.toLowerCase().includes(words);
    });
  });

  // Focus the search box as soon as the list is in, and close the menu on Escape or outside clicks.
  document.addEventListener("htmx:afterSwap", (event) => {
    const filter = event.target.querySelector && event.target.querySelector(".switcher-filter");
    if (filter && filter.closest("details[open]")) filter.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = document.querySelector("details.switcher[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });
  document.addEventListener("click", (event) => {
    const open = document.querySelector("details.switcher[open]");
    if (open && !open.contains(event.target)) open.open = false;
  });
})();
