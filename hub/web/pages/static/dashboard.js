// The dashboard's chart: runs per hour over the last 24 hours, stacked by status. The numbers come
// from the canvas's data-series attribute (the page's CSP allows no inline script); the same
// numbers are in a table beside it for readers without the chart.
(function () {
  "use strict";
  var COLOURS = {
    succeeded: "#2e7d4f", partial: "#c98a00", skipped: "#8a94a3", failed: "#c0392b", retrying: "#e0a526"
  };
  var hourFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

  function draw(canvas) {
    if (typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(canvas.getAttribute("data-series"));
    var labels = data.labels.map(function (iso) { return hourFormat.format(new Date(iso)); });
    var datasets = data.series.map(function (s) {
      return { label: s.status, data: s.counts, backgroundColor: COLOURS[s.status] || "#5b6b7f", stack: "runs" };
    });
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var canvas = document.getElementById("runs-chart");
    if (canvas) { draw(canvas); }
  });
})();
