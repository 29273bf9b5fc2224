/* The case timeline: the points (JSON in the page) drawn with vis-timeline (served locally), zoomable,
   filtered by kind and trust level; the table below shows the same points and follows the filters. */
(function () {
  "use strict";
  var box = document.getElementById("case-timeline");
  var data = document.getElementById("timeline-points");
  if (!box || !data || typeof vis === "undefined") { return; }
  var points = JSON.parse(data.textContent);
  var itemUrl = box.dataset.itemUrl;
  var groups = new vis.DataSet();
  var kinds = {};
  points.forEach(function (p) {
    if (!kinds[p.kind]) { kinds[p.kind] = true; groups.add({ id: p.kind, content: p.kind_label || p.kind }); }
  });
  var items = new vis.DataSet(points.map(function (p, index) {
    return {
      id: index,
      group: p.kind,
      start: p.time,
      content: (p.item ? "#" + p.item + " " : "") + p.what,
      title: p.local + " — " + p.time_source + " (" + (p.trust_label || p.trust) + ")",
      type: "point",
      className: "trust-" + p.trust + (p.zone_known ? "" : " zone-unknown"),
      kind: p.kind,
      trust: p.trust,
      item: p.item
    };
  }));
  function checked(id) {
    var on = {};
    document.querySelectorAll("#" + id + " input:checked").forEach(function (input) { on[input.value] = true; });
    return on;
  }
  var view = new vis.DataView(items, {
    filter: function (entry) {
      return checked("timeline-kinds")[entry.kind] && checked("timeline-trust")[entry.trust];
    }
  });
  // Points, stacked where they overlap; many at one time are clustered until zoomed in.
  var timeline = new vis.Timeline(box, view, groups, {
    stack: true, zoomable: true, zoomMin: 1000, maxHeight: 520, verticalScroll: true,
    cluster: { maxItems: 4, titleTemplate: "{count}" }
  });
  function refresh() {
    view.refresh();
    var kindsOn = checked("timeline-kinds"), trustOn = checked("timeline-trust");
    document.querySelectorAll(".timeline-table tbody tr").forEach(function (row) {
      row.hidden = !(kindsOn[row.dataset.kind] && trustOn[row.dataset.trust]);
    });
  }
  document.querySelectorAll("#timeline-kinds input, #timeline-trust input").forEach(function (input) {
    input.addEventListener("change", refresh);
  });
  timeline.on("doubleClick", function (props) {
    var entry = props.item !== null ? items.get(props.item) : null;
    if (entry && entry.item && itemUrl) { window.location = itemUrl.replace("/0/", "/" + entry.item + "/"); }
  });
})();
