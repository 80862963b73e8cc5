/* The path explorer (vae_support/explorers/path.py): q's path during ELBO ascent in 2-D.
 *
 * Vector drawing from the payload's means and covariances: the posterior's ellipses at 1 and 2
 * standard deviations (eigen-decomposition of its 2x2 covariance), q's 2-sigma ellipse (diagonal),
 * its trail, the step's arrows and a chart of the ELBO and the KL over the steps.
 */
(function () {
  "use strict";

  /* Points of the k-sigma ellipse of N(mean, cov), cov 2x2 symmetric. */
  function ellipse(mean, cov, k, n) {
    var a = cov[0][0], b = cov[0][1], c = cov[1][1];
    var half = (a + c) / 2, r = Math.sqrt((a - c) * (a - c) / 4 + b * b);
    var l1 = half + r, l2 = Math.max(half - r, 0);
    var th = 0.5 * Math.atan2(2 * b, a - c);  // direction of the major axis
    var v1 = [Math.cos(th), Math.sin(th)], v2 = [-Math.sin(th), Math.cos(th)];
    var xs = [], ys = [];
    for (var i = 0; i <= n; i++) {
      var t = 2 * Math.PI * i / n, u = k * Math.sqrt(l1) * Math.cos(t), w = k * Math.sqrt(l2) * Math.sin(t);
      xs.push(mean[0] + u * v1[0] + w * v2[0]);
      ys.push(mean[1] + u * v1[1] + w * v2[1]);
    }
    return [xs, ys];
  }

  VaeExplorers.register("path", function (figure, data, ctx) {
    var t = ctx.t, fmt = ctx.fmt, T = data.elbo.length;
    var lim = data.lim;
    var arrowId = ctx.id("arrow");

    // ---- the plane
    var W = 340, H = 330, M = { l: 44, r: 8, t: 8, b: 38 };
    var side = Math.min(W - M.l - M.r, H - M.t - M.b);
    var svg = ctx.svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "class": "vx-path-plane",
      style: "max-width:520px" }, figure);
    var defs = ctx.svg("defs", {}, svg);
    var marker = ctx.svg("marker", { id: arrowId, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6,
      orient: "auto-start-reverse" }, defs);
    ctx.svg("path", { d: "M0 0L10 5L0 10Z", fill: "var(--vx-data)" }, marker);
    var sx = ctx.scale(lim[0], lim[1], M.l, M.l + side);
    var sy = ctx.scale(lim[2], lim[3], M.t + side, M.t);
    ctx.axes(svg, sx, sy, { xlabel: "z₁", ylabel: "z₂", xticks: 6, yticks: 6 });
    var clip = ctx.id("clip");
    ctx.svg("rect", { x: M.l, y: M.t, width: side, height: side }, ctx.svg("clipPath", { id: clip }, defs));
    var plot = ctx.svg("g", { "clip-path": "url(#" + clip + ")" }, svg);
    [[1, "none"], [2, "4 3"]].forEach(function (kd) {
      var e = ellipse(data.post_mean, data.post_cov, kd[0], 96);
      ctx.svg("path", { "class": "vx-post-ellipse", d: ctx.linePath(e[0], e[1], sx, sy) + "Z", fill: kd[0] === 1 ? "var(--vx-posterior)" : "none",
        "fill-opacity": "0.12", stroke: "var(--vx-posterior)", "stroke-width": 1.8, "stroke-dasharray": kd[1] }, plot);
    });
    ctx.svg("circle", { cx: sx(data.post_mean[0]), cy: sy(data.post_mean[1]), r: 3, fill: "var(--vx-posterior)" }, plot);
    var trail = ctx.svg("path", { "class": "vx-trail", fill: "none", stroke: "var(--vx-q)", "stroke-width": 1.2 }, plot);
    var qEllipse = ctx.svg("path", { "class": "vx-q-ellipse", fill: "none", stroke: "var(--vx-q)", "stroke-width": 2.5 }, plot);
    var qCenter = ctx.svg("circle", { "class": "vx-q-center", r: 3, fill: "var(--vx-q)" }, plot);
    var arrowAttrs = { stroke: "var(--vx-data)", "marker-end": "url(#" + arrowId + ")" };
    var gradArrow = ctx.svg("line", Object.assign({ "class": "vx-grad-mean", "stroke-width": 2.2 }, arrowAttrs), plot);
    var radArrows = [0, 1].map(function () {
      return ctx.svg("line", Object.assign({ "class": "vx-grad-std", "stroke-width": 1.3 }, arrowAttrs), plot);
    });
    var legend = ctx.svg("g", {}, svg);
    [["var(--vx-posterior)", t("p(z|x): 1σ e 2σ", "p(z|x): 1σ and 2σ")], ["var(--vx-q)", t("q: 2σ e trajeto", "q: 2σ and trail")],
      ["var(--vx-data)", data.lr ? t("passo η∇ELBO", "step η∇ELBO") : t("∇ELBO (direção)", "∇ELBO (direction)")]]
      .forEach(function (item, k) {
        var y = M.t + side - 38 + 15 * k;
        ctx.svg("line", { x1: M.l + 8, y1: y - 4, x2: M.l + 24, y2: y - 4, stroke: item[0], "stroke-width": 3 }, legend);
        ctx.svg("text", { x: M.l + 28, y: y }, legend).textContent = item[1];
      });

    // ---- ELBO and KL over the steps
    var CW = 380, CH = 150, CM = { l: 44, r: 10, t: 10, b: 36 };
    var chart = ctx.svg("svg", { viewBox: "0 0 " + CW + " " + CH, role: "img", "class": "vx-path-chart", style: "max-width:600px" }, figure);
    var all = data.elbo.concat(data.kl, [data.log_px, 0]);
    var ylo = Math.min.apply(null, all), yhi = Math.max.apply(null, all), pad = 0.05 * (yhi - ylo);
    var cx = ctx.scale(0, T - 1, CM.l, CW - CM.r), cy = ctx.scale(ylo - pad, yhi + pad, CH - CM.b, CM.t);
    var steps = data.elbo.map(function (_, i) { return i; });
    ctx.axes(chart, cx, cy, { xlabel: t("passo de otimização", "optimization step"), ylabel: "nats", xticks: 6, yticks: 4 });
    ctx.svg("line", { x1: cx(0), x2: cx(T - 1), y1: cy(data.log_px), y2: cy(data.log_px), stroke: "var(--vx-fg)",
      "stroke-dasharray": "2 3", "stroke-width": 1.2 }, chart);
    ctx.svg("path", { d: ctx.linePath(steps, data.elbo, cx, cy), fill: "none", stroke: "var(--vx-q)", "stroke-width": 2 }, chart);
    ctx.svg("path", { d: ctx.linePath(steps, data.kl, cx, cy), fill: "none", stroke: "var(--vx-data)", "stroke-width": 2 }, chart);
    var lx = CW - CM.r - 4;
    ctx.svg("text", { x: lx, y: cy(data.elbo[T - 1]) + 14, "text-anchor": "end" }, chart).textContent = "ELBO";
    ctx.svg("text", { x: lx, y: cy(data.kl[T - 1]) - 5, "text-anchor": "end" }, chart).textContent = "KL(q‖p(z|x))";
    ctx.svg("text", { x: lx, y: cy(data.log_px) - 5, "text-anchor": "end" }, chart).textContent = "log p(x)";
    var cursor = ctx.svg("line", { "class": "vx-cursor", y1: CM.t, y2: CH - CM.b, stroke: "var(--vx-muted)", "stroke-width": 1 }, chart);
    var dotE = ctx.svg("circle", { "class": "vx-dot-elbo", r: 3.5, fill: "var(--vx-q)" }, chart);
    var dotK = ctx.svg("circle", { "class": "vx-dot-kl", r: 3.5, fill: "var(--vx-data)" }, chart);

    // ---- controls and numbers
    var controls = ctx.el("div", { "class": "vx-controls" }, figure);
    var out = ctx.readout(figure, [["step", t("passo", "step")], ["elbo", "ELBO"], ["kl", "KL(q‖p(z|x))"],
      ["sum", "ELBO + KL"], ["log_px", "log p(x)"], ["mean", t("média de q", "mean of q")], ["std", t("desvios de q", "stds of q")]]);
    var pair = function (v) { return "(" + fmt(v[0], 4) + t("; ", ", ") + fmt(v[1], 4) + ")"; };

    function show(i) {
      var m = data.mean[i], s = data.std[i], g = data.grad_mean[i], k = data.arrow_scale;
      var e = ellipse(m, [[s[0] * s[0], 0], [0, s[1] * s[1]]], 2, 72);
      qEllipse.setAttribute("d", ctx.linePath(e[0], e[1], sx, sy) + "Z");
      qCenter.setAttribute("cx", sx(m[0]));
      qCenter.setAttribute("cy", sy(m[1]));
      var tx = data.mean.slice(0, i + 1).map(function (p) { return p[0]; });
      var ty = data.mean.slice(0, i + 1).map(function (p) { return p[1]; });
      trail.setAttribute("d", ctx.linePath(tx, ty, sx, sy));
      gradArrow.setAttribute("x1", sx(m[0]));
      gradArrow.setAttribute("y1", sy(m[1]));
      gradArrow.setAttribute("x2", sx(m[0] + k * g[0]));
      gradArrow.setAttribute("y2", sy(m[1] + k * g[1]));
      radArrows.forEach(function (a, j) {
        if (!data.lr) { a.setAttribute("visibility", "hidden"); return; }
        var tip = [m[0], m[1]];
        tip[j] += 2 * s[j];
        var end = [tip[0], tip[1]];
        end[j] += 2 * s[j] * Math.expm1(data.lr * data.grad_log_std[i][j]);
        a.setAttribute("x1", sx(tip[0])); a.setAttribute("y1", sy(tip[1]));
        a.setAttribute("x2", sx(end[0])); a.setAttribute("y2", sy(end[1]));
      });
      cursor.setAttribute("x1", cx(i));
      cursor.setAttribute("x2", cx(i));
      dotE.setAttribute("cx", cx(i)); dotE.setAttribute("cy", cy(data.elbo[i]));
      dotK.setAttribute("cx", cx(i)); dotK.setAttribute("cy", cy(data.kl[i]));
      out.set("step", String(i));
      out.set("elbo", fmt(data.elbo[i], 4));
      out.set("kl", fmt(data.kl[i], 4));
      out.set("sum", fmt(data.elbo[i] + data.kl[i], 4));
      out.set("log_px", fmt(data.log_px, 4));
      out.set("mean", pair(m));
      out.set("std", pair(s));
      svg.setAttribute("aria-label", t("Passo ", "Step ") + i + t(": q com média ", ": q with mean ") + pair(m)
        + t(" e desvios ", " and stds ") + pair(s) + t(", sobre as elipses de p(z|x)", ", over the ellipses of p(z|x)"));
      chart.setAttribute("aria-label", t("ELBO e KL ao longo dos passos; no passo ", "ELBO and KL along the steps; at step ") + i
        + ": ELBO = " + fmt(data.elbo[i], 4) + ", KL = " + fmt(data.kl[i], 4));
    }

    var timer = null;
    var slider = ctx.slider(controls, { label: t("passo", "step"), min: 0, max: T - 1, step: 1, value: 0,
      format: function (v) { return String(v); }, onInput: function (v) { show(v); } });
    var play = ctx.el("button", { type: "button", "class": "vx-play" }, controls, t("▶ reproduzir", "▶ play"));
    function stop() {
      if (timer) { clearInterval(timer); timer = null; }
      play.textContent = t("▶ reproduzir", "▶ play");
    }
    play.addEventListener("click", function () {
      if (timer) { stop(); return; }
      if (Number(slider.value) >= T - 1) slider.set(0);
      play.textContent = t("⏸ pausar", "⏸ pause");
      timer = setInterval(function () {
        var v = Number(slider.value) + 1;
        if (v > T - 1) { stop(); return; }
        slider.set(v);
      }, 120);
    });
    slider.addEventListener("input", stop);
    show(0);
  });
})();
