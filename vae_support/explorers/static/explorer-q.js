/* The q explorer (vae_support/explorers/q.py): q = N(mu, sigma^2) against a grid posterior p(z|x).
 *
 * Every number is computed here from the payload's grid (log p(x, z_i) and log p(x)) by the rule of
 * vae_support.toy.Grid1D: integral of f g = sum over grid points where the density f is not zero of
 * f(z_i) g(z_i), times dz; q's log density as torch.distributions.Normal.log_prob writes it.
 */
(function () {
  "use strict";
  var LOG_SQRT_2PI = Math.log(Math.sqrt(2 * Math.PI));

  /* torch.linspace(z_min, z_max, n) in float64: the first half from the start, the second from the end. */
  function linspace(a, b, n) {
    var step = (b - a) / (n - 1), z = new Float64Array(n), half = Math.floor(n / 2);
    for (var i = 0; i < n; i++) z[i] = i < half ? a + i * step : b - (n - 1 - i) * step;
    return z;
  }

  function compute(grid, m, s) {
    var z = grid.z, lj = grid.logJoint, lp = grid.logPost, n = z.length, dz = grid.dz;
    var logq = new Float64Array(n), top = -Infinity, i;
    var c = -Math.log(s) - LOG_SQRT_2PI;
    for (i = 0; i < n; i++) {
      logq[i] = -((z[i] - m) * (z[i] - m)) / (2 * (s * s)) + c;
      if (logq[i] > top) top = logq[i];
    }
    var acc = 0;
    for (i = 0; i < n; i++) acc += Math.exp(logq[i] - top);
    var mass = Math.exp(top + Math.log(acc) + Math.log(dz));
    var kl = 0, elbo = 0, fkl = 0;
    for (i = 0; i < n; i++) {
      var q = Math.exp(logq[i]);
      if (q > 0) { kl += q * (logq[i] - lp[i]); elbo += q * (lj[i] - logq[i]); }
      var p = Math.exp(lp[i]);
      if (p > 0) fkl += p * (lp[i] - logq[i]);
    }
    return { logq: logq, mass: mass, kl: kl * dz, elbo: elbo * dz, fkl: fkl * dz, gap: grid.logPx - elbo * dz };
  }

  VaeExplorers.register("q", function (figure, data, ctx) {
    var t = ctx.t, fmt = ctx.fmt;
    var z = linspace(data.z_min, data.z_max, data.n);
    var lj = Float64Array.from(data.log_joint);
    var lp = new Float64Array(lj.length);
    for (var i = 0; i < lj.length; i++) lp[i] = lj[i] - data.log_px;
    var grid = { z: z, logJoint: lj, logPost: lp, logPx: data.log_px, dz: z[1] - z[0] };
    figure._vxCompute = function (m, s) { return compute(grid, m, s); };  // for tests and curious readers

    // indices of the grid drawn (inside the view, at most ~400 points)
    var iv0 = 0, iv1 = z.length - 1;
    while (iv0 < z.length - 1 && z[iv0] < data.view[0]) iv0++;
    while (iv1 > 0 && z[iv1] > data.view[1]) iv1--;
    var stride = Math.max(1, Math.ceil((iv1 - iv0) / 400)), shown = [];
    for (i = iv0; i <= iv1; i += stride) shown.push(i);
    if (shown[shown.length - 1] !== iv1) shown.push(iv1);

    // ---- the densities
    var W = 380, H = 230, M = { l: 44, r: 8, t: 10, b: 40 };
    var svg = ctx.svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "class": "vx-q-main",
      style: "max-width:600px" }, figure);
    var sx = ctx.scale(data.view[0], data.view[1], M.l, W - M.r);
    var sy = ctx.scale(0, data.y_max, H - M.b, M.t);
    ctx.axes(svg, sx, sy, { xlabel: "z", ylabel: t("densidade", "density"), xticks: 6, yticks: 3 });
    var clip = ctx.id("clip");
    var defs = ctx.svg("defs", {}, svg);
    ctx.svg("rect", { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b }, ctx.svg("clipPath", { id: clip }, defs));
    var plot = ctx.svg("g", { "clip-path": "url(#" + clip + ")" }, svg);
    var zs = shown.map(function (k) { return z[k]; });
    var ps = shown.map(function (k) { return Math.exp(lp[k]); });
    var line = ctx.linePath(zs, ps, sx, sy);
    ctx.svg("path", { d: line + "L" + sx(zs[zs.length - 1]).toFixed(2) + " " + sy(0).toFixed(2) + "L" + sx(zs[0]).toFixed(2)
      + " " + sy(0).toFixed(2) + "Z", fill: "var(--vx-posterior)", "fill-opacity": "0.3", stroke: "none" }, plot);
    ctx.svg("path", { d: line, fill: "none", stroke: "var(--vx-posterior)", "stroke-width": 2 }, plot);
    var qPath = ctx.svg("path", { "class": "vx-q-curve", fill: "none", stroke: "var(--vx-q)", "stroke-width": 2.5 }, plot);
    // legend
    var legend = ctx.svg("g", { "class": "vx-legend" }, svg);
    ctx.svg("line", { x1: W - 150, y1: M.t + 8, x2: W - 132, y2: M.t + 8, stroke: "var(--vx-posterior)", "stroke-width": 3 }, legend);
    ctx.svg("text", { x: W - 128, y: M.t + 12 }, legend).textContent = t("posterior p(z|x)", "posterior p(z|x)");
    ctx.svg("line", { x1: W - 150, y1: M.t + 24, x2: W - 132, y2: M.t + 24, stroke: "var(--vx-q)", "stroke-width": 3 }, legend);
    var qLabel = ctx.svg("text", { x: W - 128, y: M.t + 28 }, legend);

    // ---- ELBO + KL = log p(x): a waterfall bar
    var BW = 380, BH = 104, BM = { l: 44, r: 12, t: 18, b: 34 };
    var bar = ctx.svg("svg", { viewBox: "0 0 " + BW + " " + BH, role: "img", "class": "vx-q-bar", style: "max-width:600px" }, figure);
    var barG = ctx.svg("g", {}, bar);

    // ---- controls and numbers
    var controls = ctx.el("div", { "class": "vx-controls" }, figure);
    var out = ctx.readout(figure, [["kl", "KL(q‖p(z|x))"], ["elbo", "ELBO"], ["log_px", "log p(x)"],
      ["gap", t("lacuna log p(x) − ELBO", "gap log p(x) − ELBO")], ["forward_kl", t("KL direta KL(p(z|x)‖q)", "forward KL(p(z|x)‖q)")]]);
    var fwdCells = [out.querySelector('dd[data-name="forward_kl"]')];
    fwdCells.push(fwdCells[0].previousElementSibling);
    var warning = ctx.el("p", { "class": "vx-warning", role: "status" }, figure, "");
    var state = { m: data.mean, s: data.std, forward: false };

    function drawBar(r) {
      while (barG.firstChild) barG.removeChild(barG.firstChild);
      // the scale's left end: the first of 1, 2, 5, 10, 20, 50, ... nats past the ELBO (it steps, it does not follow every move)
      var need = -Math.min(r.elbo, data.log_px, -1) * 1.02, x0 = 1;
      for (var k = 0; x0 < need; k++) x0 = [1, 2, 5][k % 3] * Math.pow(10, Math.floor(k / 3));
      var bx = ctx.scale(-x0, 0, BM.l, BW - BM.r);
      var row = (BH - BM.t - BM.b) / 2;
      var by = ctx.scale(0, 1, BH - BM.b, BM.t);
      ctx.axes(barG, bx, by, { xlabel: "nats", yticks: 0, xticks: 5 });
      var y1 = BM.t + 3, y2 = BM.t + row + 3, h = row - 6;
      ctx.svg("rect", { "class": "vx-bar-elbo", x: bx(r.elbo), y: y1, width: Math.max(0, bx(0) - bx(r.elbo)), height: h,
        fill: "var(--vx-q)", "fill-opacity": "0.85" }, barG);
      ctx.svg("rect", { "class": "vx-bar-kl", x: bx(r.elbo), y: y2, width: Math.max(0.5, bx(r.elbo + r.kl) - bx(r.elbo)), height: h,
        fill: "var(--vx-data)", "fill-opacity": "0.85" }, barG);
      ctx.svg("text", { x: BM.l - 4, y: y1 + h / 2 + 4, "text-anchor": "end" }, barG).textContent = "ELBO";
      ctx.svg("text", { x: BM.l - 4, y: y2 + h / 2 + 4, "text-anchor": "end" }, barG).textContent = "+ KL";
      var xl = bx(data.log_px);
      ctx.svg("line", { "class": "vx-bar-logpx", x1: xl, y1: BM.t - 3, x2: xl, y2: BH - BM.b, stroke: "var(--vx-fg)",
        "stroke-width": 1.5, "stroke-dasharray": "4 3" }, barG);
      var anchor = xl > BW - 60 ? "end" : (xl < BM.l + 60 ? "start" : "middle");
      ctx.svg("text", { x: xl, y: BM.t - 6, "text-anchor": anchor }, barG).textContent = "log p(x)";
      bar.setAttribute("aria-label", t("Barras: ELBO = ", "Bars: ELBO = ") + fmt(r.elbo, 4) + t(", mais KL = ", ", plus KL = ")
        + fmt(r.kl, 4) + t(", terminam em log p(x) = ", ", end at log p(x) = ") + fmt(data.log_px, 4));
    }

    function update() {
      var r = compute(grid, state.m, state.s);
      var ok = Math.abs(r.mass - 1) <= data.mass_tolerance;
      var qs = shown.map(function (k) { return Math.min(Math.exp(r.logq[k]), data.y_max * 4); });
      qPath.setAttribute("d", ctx.linePath(zs, qs, sx, sy));
      var name = "q = N(" + fmt(state.m, 3) + ", " + fmt(state.s, 3) + "²)";
      qLabel.textContent = name;
      warning.textContent = ok ? "" : t("q sai da grade: os números não são calculados aqui.",
        "q leaves the grid: no numbers are computed here.");
      var show = function (v) { return ok ? fmt(v, 4) : "—"; };
      out.set("kl", show(r.kl));
      out.set("elbo", show(r.elbo));
      out.set("log_px", fmt(data.log_px, 4));
      out.set("gap", show(r.gap));
      out.set("forward_kl", show(r.fkl));
      fwdCells.forEach(function (c) { c.hidden = !state.forward; });
      if (ok) drawBar(r);
      svg.setAttribute("aria-label", t("Posterior p(z|x) e ", "Posterior p(z|x) and ") + name + ": KL(q‖p(z|x)) = " + show(r.kl)
        + ", ELBO = " + show(r.elbo) + (state.forward ? t(", KL direta = ", ", forward KL = ") + show(r.fkl) : ""));
    }

    var mr = data.mean_range, sr = data.std_range;
    ctx.slider(controls, { label: t("média μ de q", "mean μ of q"), min: mr[0], max: mr[1], step: mr[2], value: data.mean,
      format: function (v) { return fmt(v, 4); }, onInput: function (v) { state.m = v; update(); } });
    ctx.slider(controls, { label: t("desvio padrão σ de q", "standard deviation σ of q"), min: sr[0], max: sr[1], step: sr[2],
      value: data.std, format: function (v) { return fmt(v, 4); }, onInput: function (v) { state.s = v; update(); } });
    ctx.toggle(controls, { label: t("mostrar a KL direta", "show the forward KL"), checked: false,
      onChange: function (c) { state.forward = c; update(); } });
    update();
  });
})();
