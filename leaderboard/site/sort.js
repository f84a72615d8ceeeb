// Sortable tables: click a column's button; numbers sort high to low first, text A to Z.
(function () {
  "use strict";
  function valueOf(row, index, type) {
    var cell = row.cells[index];
    var text = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (type === "number") {
      var number = parseFloat(text);
      return isNaN(number) ? -Infinity : number;
    }
    return text.toLowerCase();
  }
  function sortBy(table, header, index, direction) {
    var type = header.getAttribute("data-type") || "text";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, position) { row.setAttribute("data-position", position); });
    rows.sort(function (a, b) {
      var x = valueOf(a, index, type), y = valueOf(b, index, type);
      var order = x < y ? -1 : (x > y ? 1 : 0);
      if (direction === "descending") { order = -order; }
      return order || (a.getAttribute("data-position") - b.getAttribute("data-position"));
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", direction);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var headers = table.tHead.rows[table.tHead.rows.length - 1].cells;
    Array.prototype.forEach.call(headers, function (header, index) {
      var button = header.querySelector("button.sort");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var current = header.getAttribute("aria-sort");
        var first = header.getAttribute("data-first") ||
          (header.getAttribute("data-type") === "number" ? "descending" : "ascending");
        var direction = current ? (current === "ascending" ? "descending" : "ascending") : first;
        sortBy(table, header, index, direction);
      });
    });
  });
}());
