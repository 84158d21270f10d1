// The published results' grade distribution (ECharts, vendor/echarts.min.js loaded before this):
// the numbers come from <script type="application/json" id="ov-chart-data"> (data, never run).
(function () {
  var el = document.getElementById("ov-chart");
  var data = JSON.parse(document.getElementById("ov-chart-data").textContent);
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    color: ["#b71c1c", "#0b5cad", "#2e7d32", "#8a5a00", "#59636e"],
    tooltip: { trigger: "axis", renderMode: "richText" },  // drawn on the canvas: HTML tooltips carry style="" attributes, which the CSP refuses
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: "category", data: data.grades },
    yAxis: { type: "value", minInterval: 1 },
    series: data.series.map(function (s) {
      return { name: s.name, type: "bar", data: s.data, label: { show: true, position: "top" } };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
  el.setAttribute("data-rendered", "1");
})();
