// The dashboard's charts: Chart.js (static/vendor/chartjs) draws each <canvas data-chart="KEY"> from the page's
// <script type="application/json" id="chart-data"> block. The same figures are in a table beside each chart.
// Money comes in minor units and is drawn in major units (divided by "scale"); no inline style or script is
// needed (Chart.js sizes the canvas through the CSSOM, which the Content-Security-Policy allows).
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#dc3545", "#20c997", "#6c757d", "#ffc107"];
  window.crmCharts = {};

  function options(chart) {
    var opts = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom" } }
    };
    if (chart.type === "bar" && chart.datasets.length > 1) {
      opts.scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true } };  // members + non-members
    } else if (chart.type !== "doughnut") {
      opts.scales = { y: { beginAtZero: true } };
    }
    return opts;
  }

  function datasets(chart) {
    return chart.datasets.map(function (set, index) {
      var values = set.data.map(function (value) { return chart.money ? value / data.scale : value; });
      var colour = chart.type === "doughnut" ? colours.slice(0, values.length) : colours[index % colours.length];
      return { label: set.label, data: values, backgroundColor: colour, borderColor: colour, fill: false,
               tension: 0.2 };
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var key = canvas.getAttribute("data-chart");
    var chart = data.charts[key];
    if (!chart) { return; }
    window.crmCharts[key] = new Chart(canvas, {
      type: chart.type,
      data: { labels: chart.labels, datasets: datasets(chart) },
      options: options(chart)
    });
  });

  // Charts redraw at the paper's width when printed (the tables beside them are printed too).
  window.addEventListener("beforeprint", function () {
    Object.keys(window.crmCharts).forEach(function (key) { window.crmCharts[key].resize(); });
  });
})();
