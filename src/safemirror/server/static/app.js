/* safemirror dashboard: loads every metric from the API and draws it; SQL console for
   analysts. Same-origin requests only; state changes carry the CSRF token. */
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var minCell = document.body.getAttribute("data-min-cell");
  var $ = function (id) { return document.getElementById(id); };
  var metrics = [];
  var MAX_SERIES = 10;

  function api(path, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    return fetch(path, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) {
          if (r.status === 401) { window.location.assign("/"); }
          throw new Error((body && body.detail) || ("HTTP " + r.status));
        }
        return body;
      });
    });
  }

  function text(tag, content, cls) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function card(metric) {
    var box = text("article", undefined, "card");
    box.setAttribute("data-metric", metric.name);
    box.setAttribute("data-state", "loading");
    var head = text("header");
    head.appendChild(text("h2", metric.title));
    var pick = document.createElement("select");
    pick.className = "dim";
    pick.setAttribute("aria-label", metric.title + " breakdown");
    pick.appendChild(new Option("total", ""));
    metric.dimensions.forEach(function (d) { pick.appendChild(new Option("by " + d, d)); });
    pick.addEventListener("change", function () { load(metric, box); });
    head.appendChild(pick);
    box.appendChild(head);
    box.appendChild(text("p", metric.description, "desc"));
    box.appendChild(text("p", "", "summary"));
    box.appendChild(text("div", undefined, "chart"));
    box.appendChild(text("p", "loading…", "note"));
    var more = document.createElement("details");
    more.appendChild(text("summary", "data"));
    more.appendChild(text("div", undefined, "table-wrap"));
    box.appendChild(more);
    return box;
  }

  function query(metric, box) {
    var params = new URLSearchParams();
    params.set("grain", $("grain").value);
    if ($("from").value) { params.set("from", $("from").value); }
    if ($("to").value) { params.set("to", $("to").value); }
    var by = box.querySelector("select.dim").value;
    if (by) { params.set("by", by); }
    return "/api/metrics/" + encodeURIComponent(metric.name) + "?" + params.toString();
  }

  // A row's dimension value as shown (as metrics/categories.py labels it): the reserved
  // labels (total), (unknown) and (empty), and a real value that looks like one quoted.
  function dimLabel(row, by) {
    var v = row[by];
    var wrapped = function (a, b) { return v.length >= 2 && v[0] === a && v[v.length - 1] === b; };
    if (row.total) { return "(total)"; }
    if (v === null || v === undefined) { return "(unknown)"; }
    v = String(v);
    if (v === "") { return "(empty)"; }
    return wrapped("(", ")") || wrapped('"', '"') ? '"' + v + '"' : v;
  }

  function seriesOf(metric, data) {
    var column = metric.chart.value, by = data.by;
    // Keyed by data values: maps without a prototype, so "__proto__" or "constructor"
    // is a value like any other.
    var labels = [], index = Object.create(null), series = Object.create(null), order = [];
    data.rows.forEach(function (row) {
      if (!(row.period in index)) { index[row.period] = labels.length; labels.push(row.period); }
    });
    data.rows.forEach(function (row) {
      if (by && row.total) { return; }
      var name = by ? dimLabel(row, by) : "";  // one label per category
      if (!(name in series)) {
        series[name] = { name: name, label: name,
                         values: labels.map(function () { return null; }),
                         suppressed: labels.map(function () { return false; }) };
        order.push(name);
      }
      var i = index[row.period];
      series[name].values[i] = row[column];
      series[name].suppressed[i] = row.suppressed.indexOf(column) >= 0;
    });
    var all = order.map(function (n) { return series[n]; });
    var sum = function (s) {
      return s.values.reduce(function (a, v) { return a + (v === null ? 0 : v); }, 0);
    };
    var weight = function (s) {  // rank by volume, so rare values do not crowd the chart
      var rows = data.rows.filter(function (r) { return !r.total && dimLabel(r, by) === s.name; });
      var volume = rows.reduce(function (a, r) {
        var v = r[data.columns[0]];
        return a + (typeof v === "number" ? v : 0);
      }, 0);
      return volume || sum(s);
    };
    var shown = all.length > MAX_SERIES
      ? all.slice().sort(function (a, b) { return weight(b) - weight(a); }).slice(0, MAX_SERIES)
      : all;
    return { labels: labels, series: shown, hidden: all.length - shown.length };
  }

  function histogramOf(metric, data) {
    var totals = data.rows.filter(function (r) { return r.total; });
    var last = totals[totals.length - 1];
    var buckets = metric.columns.filter(function (c) { return c.name.indexOf("users_") === 0; });
    return {
      labels: buckets.map(function (c) { return c.label.replace(" devices", ""); }),
      series: [{ name: "", values: buckets.map(function (c) { return last ? last[c.name] : null; }),
                 suppressed: buckets.map(function (c) {
                   return !!last && last.suppressed.indexOf(c.name) >= 0; }) }],
      last: last
    };
  }

  function table(metric, data) {
    var cols = ["period"].concat(data.by ? [data.by] : []).concat(data.columns);
    var t = document.createElement("table"), head = t.createTHead().insertRow();
    cols.forEach(function (c) { head.appendChild(text("th", c)); });
    var body = t.createTBody();
    data.rows.forEach(function (row) {
      var tr = body.insertRow();
      cols.forEach(function (c) {
        var td = tr.insertCell();
        if (row.suppressed.indexOf(c) >= 0) {
          td.className = "sm-suppressed-cell";
          td.textContent = "suppressed";
          td.title = "withheld: fewer than " + minCell + " people";
        } else if (c === data.by) {
          td.className = "dim";  // a data value: clipped, and whole in its tooltip
          td.textContent = dimLabel(row, c);
          td.title = td.textContent;
        } else {
          var v = row[c];
          td.textContent = typeof v === "number" ? SmChart.format(v, /_rate$/.test(c)) : (v === null ? "–" : v);
        }
      });
    });
    return t;
  }

  function load(metric, box) {
    box.setAttribute("data-state", "loading");
    var note = box.querySelector(".note");
    note.textContent = "loading…";
    note.classList.remove("error");
    return api(query(metric, box)).then(function (data) {
      if (!$("from").value) { $("from").value = data.from; }
      if (!$("to").value) { $("to").value = data.to; }
      var chart = box.querySelector(".chart"), summary = box.querySelector(".summary");
      var drawn, hidden = 0;
      summary.textContent = "";
      if (metric.chart.kind === "histogram") {
        var h = histogramOf(metric, data);
        drawn = SmChart.bars(chart, { labels: h.labels, series: h.series, title: metric.title,
                                      maxLabels: 12 });
        if (h.last) {
          summary.textContent = "At " + h.last.period + ": mean " +
            SmChart.format(h.last.mean) + ", median " +
            (h.last.median === null ? "withheld" : (h.last.median >= 10 ? "10+" : h.last.median)) +
            " devices per active user.";
        }
      } else {
        var s = seriesOf(metric, data);
        hidden = s.hidden;
        var spec = { labels: s.labels, series: s.series, percent: metric.chart.percent,
                     title: metric.title };
        drawn = (metric.chart.kind === "bar" && !data.by ? SmChart.bars : SmChart.line)(chart, spec);
      }
      note.textContent = (data.suppressed_cells
        ? data.suppressed_cells + " cell(s) withheld (fewer than " + data.min_cell +
          " people, or needed to protect one that was)."
        : "No cell withheld.") +
        (hidden ? " Showing the " + MAX_SERIES + " largest of " + (hidden + MAX_SERIES) +
          " " + data.by + " values; all are in the data table." : "");
      var wrap = box.querySelector(".table-wrap");
      wrap.textContent = "";
      wrap.appendChild(table(metric, data));
      box.setAttribute("data-marks", String(drawn.marks));
      box.setAttribute("data-withheld", String(drawn.withheld));
      box.setAttribute("data-state", "ready");
    }).catch(function (err) {
      note.textContent = err.message;
      note.classList.add("error");
      box.setAttribute("data-state", "error");
    });
  }

  function loadAll() {
    return Promise.all(metrics.map(function (m) { return load(m, m.box); }));
  }

  function runSql() {
    var status = $("sql-status"), out = $("sql-result");
    status.textContent = "running…";
    status.classList.remove("bad");
    api("/api/sql", { method: "POST", body: JSON.stringify({ sql: $("sql-text").value }),
                      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf } })
      .then(function (res) {
        status.textContent = res.row_count + " row(s) in " + res.duration_ms + " ms" +
          (res.truncated ? " (truncated)" : "");
        var t = document.createElement("table"), head = t.createTHead().insertRow();
        res.columns.forEach(function (c) { head.appendChild(text("th", c)); });
        var body = t.createTBody();
        res.rows.forEach(function (row) {
          var tr = body.insertRow();
          row.forEach(function (v) {
            var td = tr.insertCell();
            td.textContent = v === null ? "NULL" : String(v);
            td.title = td.textContent;  // long values are clipped on screen
          });
        });
        out.textContent = "";
        out.appendChild(t);
      })
      .catch(function (err) { status.textContent = err.message; status.classList.add("bad"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    api("/api/metrics").then(function (list) {
      var grid = $("charts");
      metrics = list;
      list.forEach(function (m) { m.box = card(m); grid.appendChild(m.box); });
      // The first answer fills in the default range; then load the rest with it.
      return load(metrics[0], metrics[0].box).then(function () {
        return Promise.all(metrics.slice(1).map(function (m) { return load(m, m.box); }));
      });
    }).catch(function (err) { $("charts").appendChild(text("p", err.message, "error")); });
    $("apply").addEventListener("click", loadAll);
    if ($("sql-run")) { $("sql-run").addEventListener("click", runSql); }
  });
}());
