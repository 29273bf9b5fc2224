/* The case graph: fetches casefile.graph's JSON from the portal and draws it with cytoscape (served
   locally). People appear by pseudonym, channels by handle, items by number: no thumbnail, no file name. */
(function () {
  "use strict";
  var box = document.getElementById("case-graph");
  if (!box) { return; }
  var listOnly = box.dataset.listOnly === "1";
  if (!listOnly && typeof cytoscape === "undefined") { return; }
  var status = document.getElementById("case-graph-status");
  var list = document.getElementById("case-graph-list");
  var itemUrl = box.dataset.itemUrl;

  function label(node) {
    if (node.type === "person") { return node.pseudonym; }
    if (node.type === "channel") { return node.handle || node.title || node.url || ("channel " + node.id); }
    return "#" + node.item_id;
  }

  fetch(box.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (graph) {
      var elements = [];
      var names = {};
      graph.nodes.forEach(function (node) {
        names[node.id] = label(node);
        elements.push({ group: "nodes", data: { id: node.id, label: names[node.id], type: node.type, item: node.item_id || null, minor: !!node.is_minor } });
      });
      graph.edges.forEach(function (edge) {
        elements.push({ group: "edges", data: { id: edge.id, source: edge.source, target: edge.target, label: edge.relation_label || edge.relation } });
        var li = document.createElement("li");
        li.textContent = names[edge.source] + " — " + (edge.relation_label || edge.relation) + " → " + names[edge.target];
        list.appendChild(li);
      });
      box.dataset.nodes = String(graph.nodes.length);
      box.dataset.edges = String(graph.edges.length);
      var summary = box.dataset.textSummary.replace("NODES", graph.nodes.length).replace("EDGES", graph.edges.length)
        + (graph.truncated && graph.truncated.length ? " " + box.dataset.textTruncated.replace("LIMIT", graph.item_links_limit) : "");
      status.textContent = summary;
      if (listOnly) { return; }
      var cy = cytoscape({
        container: box,
        elements: elements,
        wheelSensitivity: 0.3,
        style: [
          { selector: "node", style: { "label": "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, "color": "#1a1a1a", "width": 26, "height": 26 } },
          { selector: "node[type = 'person']", style: { "background-color": "#0b4f8a", "shape": "ellipse" } },
          { selector: "node[?minor]", style: { "border-width": 3, "border-color": "#8a1c0b" } },
          { selector: "node[type = 'channel']", style: { "background-color": "#6b3fa0", "shape": "round-rectangle" } },
          { selector: "node[type = 'item']", style: { "background-color": "#5a5a5a", "shape": "diamond", "width": 20, "height": 20 } },
          { selector: "edge", style: { "width": 1.5, "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1", "target-arrow-shape": "triangle", "curve-style": "bezier", "label": "data(label)", "font-size": 9, "color": "#4a4a4a" } }
        ],
        layout: { name: graph.nodes.length > 400 ? "grid" : "cose", animate: false }
      });
      cy.on("tap", "node[type = 'item']", function (event) {
        window.location.href = itemUrl.replace(/\/0\/$/, "/" + event.target.data("item") + "/");
      });
      window.haetaeCaseGraph = cy;
    })
    .catch(function (error) {
      status.textContent = box.dataset.textFailed + " (" + error.message + ")";
    });
})();
