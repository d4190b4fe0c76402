/* SLMBench leaderboard pages: sorting, filters, breakdown rows and the quality-size charts.
   The tables are already in the HTML; this script never writes markup from data (textContent
   only), and its data comes from the page's own JSON block. When done it sets on <body>:
   data-ready="1", data-charts (charts drawn) and data-errors (errors caught on the page). */
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message || e)); });
  window.addEventListener("unhandledrejection", function (e) { errors.push(String(e.reason)); });

  function cellValue(tbody, col) {
    var cell = tbody.rows[0].cells[col];
    return cell ? cell.getAttribute("data-value") || "" : "";
  }

  function sortTable(table, col, button) {
    var th = button.parentNode;
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var bodies = Array.prototype.slice.call(table.tBodies);
    var numeric = bodies.every(function (b) { var v = cellValue(b, col); return v === "" || !isNaN(Number(v)); });
    bodies.sort(function (a, b) {
      var x = cellValue(a, col), y = cellValue(b, col);
      if (x === "" && y === "") return 0;
      if (x === "") return 1;  /* missing figures last, either way */
      if (y === "") return -1;
      var d = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return ascending ? d : -d;
    });
    bodies.forEach(function (b) { table.appendChild(b); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function applyFilters() {
    var wanted = {};
    document.querySelectorAll("select.filter").forEach(function (s) { wanted[s.getAttribute("data-key")] = s.value; });
    document.querySelectorAll("tbody.entry").forEach(function (b) {
      var show = Object.keys(wanted).every(function (k) { return !wanted[k] || b.getAttribute("data-" + k) === wanted[k]; });
      b.hidden = !show;
    });
  }

  function showRow(id) {
    var row = document.getElementById(id);
    if (!row) return;
    document.querySelectorAll("tr.picked").forEach(function (r) { r.classList.remove("picked"); });
    row.classList.add("picked");
    row.scrollIntoView({ block: "center" });
  }

  document.querySelectorAll("table.lb button.sort").forEach(function (button) {
    button.addEventListener("click", function () {
      sortTable(button.closest("table"), Number(button.getAttribute("data-col")), button);
    });
  });
  document.querySelectorAll("button.open").forEach(function (button) {
    button.addEventListener("click", function () {
      var detail = document.getElementById(button.getAttribute("aria-controls"));
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      detail.hidden = !open;
    });
  });
  document.querySelectorAll("select.filter").forEach(function (s) { s.addEventListener("change", applyFilters); });

  var data = JSON.parse(document.getElementById("board-data").textContent);
  var drawn = 0;
  var jobs = data.tables.map(function (id) {
    var el = document.getElementById("chart-" + id);
    if (typeof vegaEmbed !== "function") { errors.push("vegaEmbed is not loaded"); return Promise.resolve(); }
    return vegaEmbed(el, data.specs[id], { actions: false, renderer: "svg" }).then(function (result) {
      drawn += 1;
      result.view.addEventListener("click", function (event, item) {
        if (item && item.datum && item.datum.id) showRow(item.datum.id);
      });
    }).catch(function (e) { errors.push("chart " + id + ": " + e); });
  });
  Promise.all(jobs).then(function () {
    document.body.setAttribute("data-charts", String(drawn));
    document.body.setAttribute("data-errors", String(errors.length));
    document.body.setAttribute("data-ready", "1");
  });
})();
