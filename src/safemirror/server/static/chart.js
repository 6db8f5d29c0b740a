/* SmChart: small SVG charts for the dashboard (lines, bars, histograms) with withheld
   cells drawn as hatched marks. No dependencies. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var W = 560, H = 250, M = { top: 12, right: 14, bottom: 34, left: 52 };
  var PALETTE = ["#2f5fd0", "#e07b39", "#2a9d8f", "#c4456d", "#7b61c9", "#8a9a2c",
                 "#d4a017", "#3b8bd9", "#a0522d", "#4f6d7a", "#b05fb0", "#5c946e"];

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function title(node, text) { el("title", {}, node).textContent = text; return node; }
  // A series name is data: isolated (FSI…PDI) so its bidi controls cannot reorder the
  // period and value that follow it in a tooltip.
  function named(s) { return shown(s) ? "\u2068" + shown(s) + "\u2069, " : ""; }
  // What a series is called on screen: its label, else its name ("": the total).
  function shown(s) { return s.label || s.name || ""; }
  function niceMax(v) {
    if (!(v > 0)) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v))), n = v / p;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
  }
  function fmt(v, percent) {
    if (v === null || v === undefined) { return "withheld"; }
    if (percent) {
      var pct = v * 100;
      return pct.toFixed(Math.abs(pct - Math.round(pct)) > 0.05 ? 1 : 0) + " %";
    }
    if (Math.abs(v) >= 1000) { return Math.round(v).toLocaleString(); }
    return (Math.round(v * 100) / 100).toLocaleString();
  }

  function frame(container, spec) {
    container.textContent = "";
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
                          "aria-label": spec.title || "chart" }, container);
    var defs = el("defs", {}, svg);
    var pat = el("pattern", { id: "sm-hatch", width: 6, height: 6,
                              patternUnits: "userSpaceOnUse",
                              patternTransform: "rotate(45)" }, defs);
    el("rect", { width: 6, height: 6, fill: "#e6e8ed" }, pat);
    el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#9aa0ad", "stroke-width": 2 }, pat);
    var values = [];
    spec.series.forEach(function (s) {
      s.values.forEach(function (v) { if (v !== null) { values.push(v); } });
    });
    var max = niceMax(Math.max.apply(null, values.concat([0])));
    if (spec.percent) { max = Math.min(1, max); }
    var pw = W - M.left - M.right, ph = H - M.top - M.bottom;
    var n = spec.labels.length;
    var x = function (i) { return M.left + (n <= 1 ? pw / 2 : (i + 0.5) * pw / n); };
    var y = function (v) { return M.top + ph - (v / max) * ph; };
    var axis = el("g", { "class": "axis" }, svg);
    for (var t = 0; t <= 4; t++) {
      var v = max * t / 4, yy = y(v);
      el("line", { x1: M.left, x2: W - M.right, y1: yy, y2: yy, "class": "gridline" }, axis);
      el("text", { x: M.left - 6, y: yy + 3, "text-anchor": "end" }, axis).textContent =
        fmt(v, spec.percent);
    }
    var every = Math.max(1, Math.ceil(n / (spec.maxLabels || 8)));
    spec.labels.forEach(function (label, i) {
      if (i % every === 0) {
        el("text", { x: x(i), y: H - M.bottom + 16, "text-anchor": "middle" }, axis)
          .textContent = label;
      }
    });
    el("line", { x1: M.left, x2: W - M.right, y1: y(0), y2: y(0) }, axis);
    return { svg: svg, x: x, y: y, ph: ph, pw: pw, n: n, base: y(0) };
  }

  function withheldMark(f, g, cx, width, label) {
    var h = Math.min(f.ph, 18);
    var r = el("rect", { x: cx - width / 2, y: f.base - h, width: width, height: h,
                         "class": "sm-suppressed", "data-suppressed": "1" }, g);
    title(r, label + ": withheld (fewer than the minimum number of people)");
    return r;
  }

  function legend(container, spec) {
    var box = document.createElement("div");
    box.className = "legend";
    spec.series.forEach(function (s, i) {
      if (spec.series.length === 1 && !shown(s)) { return; }
      var item = document.createElement("span");
      var sw = document.createElement("i");
      sw.style.background = PALETTE[i % PALETTE.length];
      item.appendChild(sw);
      item.appendChild(document.createTextNode(shown(s) || "total"));
      item.title = shown(s) || "total";  // long names are clipped on screen
      box.appendChild(item);
    });
    container.appendChild(box);
  }

  function line(container, spec) {
    var f = frame(container, spec);
    var marks = 0, withheld = 0;
    spec.series.forEach(function (s, si) {
      var color = PALETTE[si % PALETTE.length];
      var g = el("g", { "class": "series", "data-series": shown(s) || "total" }, f.svg);
      var d = "", pen = false;
      s.values.forEach(function (v, i) {
        if (v === null) { pen = false; return; }
        d += (pen ? "L" : "M") + f.x(i).toFixed(1) + "," + f.y(v).toFixed(1);
        pen = true;
      });
      if (d) { el("path", { d: d, "class": "sm-line", stroke: color }, g); }
      s.values.forEach(function (v, i) {
        if (s.suppressed[i]) {
          withheldMark(f, g, f.x(i), 7, named(s) + spec.labels[i]);
          withheld++;
        } else if (v !== null) {
          title(el("circle", { cx: f.x(i), cy: f.y(v), r: 3, fill: color,
                               "class": "sm-point" }, g),
                named(s) + spec.labels[i] + ": " + fmt(v, spec.percent));
          marks++;
        }
      });
    });
    legend(container, spec);
    return { marks: marks, withheld: withheld };
  }

  function bars(container, spec) {
    var f = frame(container, spec);
    var marks = 0, withheld = 0;
    var k = spec.series.length, slot = f.pw / Math.max(1, f.n);
    var bw = Math.max(2, Math.min(40, (slot * 0.8) / k));
    spec.series.forEach(function (s, si) {
      var color = PALETTE[si % PALETTE.length];
      var g = el("g", { "class": "series", "data-series": shown(s) || "total" }, f.svg);
      s.values.forEach(function (v, i) {
        var cx = f.x(i) + (si - (k - 1) / 2) * bw;
        if (s.suppressed[i]) {
          withheldMark(f, g, cx, bw, named(s) + spec.labels[i]);
          withheld++;
        } else if (v !== null) {
          var top = f.y(v);
          title(el("rect", { x: cx - bw / 2, y: top, width: bw, height: Math.max(0, f.base - top),
                             fill: color, "class": "sm-bar" }, g),
                named(s) + spec.labels[i] + ": " + fmt(v, spec.percent));
          marks++;
        }
      });
    });
    legend(container, spec);
    return { marks: marks, withheld: withheld };
  }

  window.SmChart = { line: line, bars: bars, format: fmt, palette: PALETTE };
}());
