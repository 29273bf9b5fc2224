/* Exhibit form: an item ticked in the search results moves to the chosen items, so that a new search
   (which replaces the results) never drops it; unticking a chosen item leaves it unticked (not submitted). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("#search-results input[name=items]") || !box.checked) { return; }
    var chosen = document.getElementById("chosen-items");
    var entry = box.closest("li");
    var existing = document.getElementById("chosen-" + box.value);
    if (existing) {
      existing.checked = true;
      entry.remove();
      return;
    }
    var label = entry.querySelector("label");
    box.id = "chosen-" + box.value;
    if (label) { label.htmlFor = box.id; }
    chosen.appendChild(entry);
    document.getElementById("none-chosen").hidden = true;
    box.focus();
  });
}());
