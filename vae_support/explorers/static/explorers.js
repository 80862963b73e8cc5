/* Course explorers: the shared core (vae_support/explorers/static/explorers.js).
 *
 * Each explorer on a page is a <figure class="vae-explorer" data-kind="KIND" lang="pt|en"> holding
 * its data in <script type="application/json" class="vae-explorer-data">, written by the notebook
 * with vae_support.explorers. One module per kind (explorer-KIND.js, loaded after this file) calls
 *
 *     VaeExplorers.register("KIND", function draw(figure, data, ctx) { ... });
 *
 * and the core runs draw() once for every figure of that kind, with ctx holding the helpers below
 * (SVG elements, scales, labelled sliders, numbers in the page's language). Plain JS, no library.
 */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var kinds = {};

  /* Python's format(x, ".{digits}g"): `digits` significant digits rounded half to even on the exact
   * binary value (as Python does; JS's toFixed rounds ties up), trailing zeros removed, exponent form
   * when the exponent is < -4 or >= digits, so the site prints exactly what the notebook prints. */
  function formatG(x, digits) {
    if (!isFinite(x)) return String(x);
    if (x === 0) return (1 / x < 0) ? "-0" : "0";
    var exact = Math.abs(x).toExponential(100).split("e");  // the double's decimal digits
    var all = exact[0].replace(".", "");
    var exp = Number(exact[1]);
    var keep = all.slice(0, digits).split("").map(Number);
    var rest = all.slice(digits);
    var up = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || keep[keep.length - 1] % 2 === 1));
    if (up) {
      var i = keep.length - 1;
      while (i >= 0 && keep[i] === 9) { keep[i] = 0; i -= 1; }
      if (i < 0) { keep.unshift(1); keep.pop(); exp += 1; } else { keep[i] += 1; }
    }
    var ds = keep.join("");
    var text;
    if (exp < -4 || exp >= digits) {
      var mant = ds.length > 1 ? (ds[0] + "." + ds.slice(1)).replace(/0+$/, "").replace(/\.$/, "") : ds;
      text = mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    } else if (exp < 0) {
      text = ("0." + "0".repeat(-exp - 1) + ds).replace(/0+$/, "").replace(/\.$/, "");
    } else {
      var int = ds.slice(0, exp + 1), frac = ds.slice(exp + 1);
      text = (frac ? int + "." + frac : int).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
    }
    return (x < 0 ? "-" : "") + text;
  }

  function makeContext(figure) {
    var lang = figure.getAttribute("lang") || document.documentElement.lang || "en";
    var pt = lang.slice(0, 2) === "pt";
    var uid = "vx" + Math.random().toString(36).slice(2, 9);
    var counter = 0;
    var ctx = {
      lang: pt ? "pt" : "en",
      /** The text in the page's language. */
      t: function (ptText, enText) { return pt ? ptText : enText; },
      /** A number as Python's f"{x:.{digits}g}" prints it, with a decimal comma in Portuguese. */
      fmt: function (x, digits) {
        var s = formatG(x, digits === undefined ? 4 : digits);
        return pt ? s.replace(".", ",") : s;
      },
      /** A unique id for this figure's elements. */
      id: function (name) { counter += 1; return uid + "-" + (name || "e") + counter; },
      /** An HTML element with attributes (and text), appended to parent when given. */
      el: function (tag, attrs, parent, text) {
        var node = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
        if (text !== undefined) node.textContent = text;
        if (parent) parent.appendChild(node);
        return node;
      },
      /** An SVG element with attributes, appended to parent when given. */
      svg: function (tag, attrs, parent) {
        var node = document.createElementNS(SVG_NS, tag);
        Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
        if (parent) parent.appendChild(node);
        return node;
      },
      /** A linear map from [d0, d1] to [r0, r1]. */
      scale: function (d0, d1, r0, r1) {
        var f = function (v) { return r0 + (v - d0) * (r1 - r0) / (d1 - d0); };
        f.invert = function (p) { return d0 + (p - r0) * (d1 - d0) / (r1 - r0); };
        f.domain = [d0, d1];
        f.range = [r0, r1];
        return f;
      },
      /** An SVG path "M x y L ..." through the points (xs[i], ys[i]) mapped by sx, sy. */
      linePath: function (xs, ys, sx, sy) {
        var d = "";
        for (var i = 0; i < xs.length; i++) {
          d += (i ? "L" : "M") + sx(xs[i]).toFixed(2) + " " + sy(ys[i]).toFixed(2);
        }
        return d;
      },
      /** Round tick values for the interval [lo, hi], about `count` of them. */
      ticks: function (lo, hi, count) {
        var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / (count || 5))));
        var err = (hi - lo) / (count || 5) / step;
        if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
        var out = [];
        for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
        return out;
      },
      /** Axes in group g: a bottom axis for sx and a left axis for sy, ticks in the page's number format. */
      axes: function (g, sx, sy, opts) {
        opts = opts || {};
        var self = ctx;
        var x0 = Math.min(sx.range[0], sx.range[1]), x1 = Math.max(sx.range[0], sx.range[1]);
        var y0 = Math.max(sy.range[0], sy.range[1]), y1 = Math.min(sy.range[0], sy.range[1]);
        var axis = self.svg("g", { "class": "vx-axis" }, g);
        self.svg("line", { x1: x0, y1: y0, x2: x1, y2: y0 }, axis);
        self.svg("line", { x1: x0, y1: y0, x2: x0, y2: y1 }, axis);
        self.ticks(Math.min.apply(null, sx.domain), Math.max.apply(null, sx.domain), opts.xticks || 5).forEach(function (v) {
          self.svg("line", { x1: sx(v), y1: y0, x2: sx(v), y2: y0 + 4 }, axis);
          var t = self.svg("text", { x: sx(v), y: y0 + 15, "text-anchor": "middle" }, axis);
          t.textContent = self.fmt(v, 3);
        });
        if (opts.yticks !== 0) {
          self.ticks(Math.min.apply(null, sy.domain), Math.max.apply(null, sy.domain), opts.yticks || 4).forEach(function (v) {
            self.svg("line", { x1: x0 - 4, y1: sy(v), x2: x0, y2: sy(v) }, axis);
            var t = self.svg("text", { x: x0 - 6, y: sy(v) + 4, "text-anchor": "end" }, axis);
            t.textContent = self.fmt(v, 3);
          });
        }
        if (opts.xlabel) {
          var xl = self.svg("text", { x: (x0 + x1) / 2, y: y0 + 30, "text-anchor": "middle", "class": "vx-label" }, axis);
          xl.textContent = opts.xlabel;
        }
        if (opts.ylabel) {
          var yl = self.svg("text", { x: 12, y: (y0 + y1) / 2, "text-anchor": "middle", "class": "vx-label",
            transform: "rotate(-90 12 " + (y0 + y1) / 2 + ")" }, axis);
          yl.textContent = opts.ylabel;
        }
        return axis;
      },
      /** A labelled range slider: {label, min, max, step, value, format(v) -> text, onInput(v)}.
       * Keyboard: the arrows, Page Up/Down, Home/End (native range input). Returns the <input>. */
      slider: function (parent, o) {
        var wrap = ctx.el("div", { "class": "vx-control" }, parent);
        var id = ctx.id("slider");
        ctx.el("label", { "for": id }, wrap, o.label);
        var input = ctx.el("input", { id: id, type: "range", min: o.min, max: o.max, step: o.step, value: o.value }, wrap);
        var out = ctx.el("output", { "for": id, "aria-live": "off" }, wrap);
        var show = function () {
          var v = Number(input.value);
          out.textContent = o.format ? o.format(v) : ctx.fmt(v, 3);
          input.setAttribute("aria-valuetext", out.textContent);
          return v;
        };
        input.addEventListener("input", function () { o.onInput(show()); });
        show();
        input.set = function (v) { input.value = v; o.onInput(show()); };
        return input;
      },
      /** A labelled checkbox: {label, checked, onChange(checked)}. Returns the <input>. */
      toggle: function (parent, o) {
        var wrap = ctx.el("div", { "class": "vx-control vx-toggle" }, parent);
        var id = ctx.id("toggle");
        var input = ctx.el("input", { id: id, type: "checkbox" }, wrap);
        input.checked = !!o.checked;
        ctx.el("label", { "for": id }, wrap, o.label);
        input.addEventListener("change", function () { o.onChange(input.checked); });
        return input;
      },
      /** A read-out line: a <dl> of named values, updated with set(name, text). aria-live polite. */
      readout: function (parent, names) {
        var dl = ctx.el("dl", { "class": "vx-readout", "aria-live": "polite" }, parent);
        var cells = {};
        names.forEach(function (pair) {
          ctx.el("dt", {}, dl, pair[1]);
          cells[pair[0]] = ctx.el("dd", { "data-name": pair[0] }, dl, "");
        });
        dl.set = function (name, text) { cells[name].textContent = text; };
        return dl;
      }
    };
    return ctx;
  }

  function initFigure(figure) {
    if (figure.getAttribute("data-ready")) return;
    var kind = figure.getAttribute("data-kind");
    var draw = kinds[kind];
    if (!draw) return;  // its module has not registered yet
    var script = figure.querySelector("script.vae-explorer-data");
    figure.setAttribute("data-ready", "1");
    try {
      var data = JSON.parse(script.textContent);
      var fallback = figure.querySelector(".vae-explorer-fallback");
      if (fallback) fallback.remove();
      figure.setAttribute("role", "group");
      draw(figure, data, makeContext(figure));
    } catch (err) {
      figure.setAttribute("data-error", String(err && err.message || err));
      console.error("vae explorer " + kind + ":", err);
    }
  }

  function initAll(kind) {
    var sel = "figure.vae-explorer" + (kind ? '[data-kind="' + kind + '"]' : "");
    Array.prototype.forEach.call(document.querySelectorAll(sel), initFigure);
  }

  window.VaeExplorers = {
    formatG: formatG,
    register: function (kind, draw) {
      kinds[kind] = draw;
      if (document.readyState !== "loading") initAll(kind);
    },
    init: function () { initAll(); }
  };
  document.addEventListener("DOMContentLoaded", function () { initAll(); });
})();
