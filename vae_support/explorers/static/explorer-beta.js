/* The β explorer (vae_support/explorers/static/explorer-beta.js), data from
 * vae_support.explorers.beta.beta_explorer.
 *
 * A slider over the trained β values. Left: every model on the rate–distortion plane, the chosen
 * one highlighted with its level line D + βR = const. Right: the chosen model's test means in the
 * latent plane, coloured by digit. Read-out: β, rate R, distortion D and ELBO = −(R + D), nats,
 * as computed by the package (vae_support.widgets.beta_states).
 */
(function () {
  "use strict";
  VaeExplorers.register("beta", function (figure, data, ctx) {
    var m = data.betas.length, ext = data.extent;
    var row = ctx.el("div", { style: "display:flex;flex-wrap:wrap;gap:0.5em;justify-content:center;align-items:flex-start" }, figure);

    // --- rate–distortion plane
    var rd = ctx.svg("svg", { viewBox: "0 0 320 280", role: "img", "class": "vx-beta-rd", style: "flex:1 1 280px;max-width:420px" }, row);
    var rmax = Math.max.apply(null, data.rate), dmin = Math.min.apply(null, data.distortion), dmax = Math.max.apply(null, data.distortion);
    var pad = 0.1 * (dmax - dmin) + 1;
    var sx = ctx.scale(0, rmax * 1.15 + 1e-9, 58, 306), sy = ctx.scale(dmin - pad, dmax + pad, 236, 10);
    ctx.axes(rd, sx, sy, { xlabel: ctx.t("taxa R (nats)", "rate R (nats)"), ylabel: ctx.t("distorção D (nats)", "distortion D (nats)"), xticks: 4, yticks: 5 });
    var clip = ctx.id("clip");
    var defs = ctx.svg("defs", {}, rd);
    ctx.svg("rect", { x: 58, y: 10, width: 248, height: 226 }, ctx.svg("clipPath", { id: clip }, defs));
    var level = ctx.svg("path", { fill: "none", stroke: "var(--vx-q)", "stroke-width": 1.5, "stroke-dasharray": "5 4", "clip-path": "url(#" + clip + ")", "class": "vx-beta-level" }, rd);
    ctx.svg("path", { d: ctx.linePath(data.rate, data.distortion, sx, sy), fill: "none", stroke: "var(--vx-muted)", "stroke-width": 1.2 }, rd);
    var points = data.betas.map(function (b, i) {
      var g = ctx.svg("g", {}, rd);
      ctx.svg("circle", { cx: sx(data.rate[i]).toFixed(2), cy: sy(data.distortion[i]).toFixed(2), r: 4, fill: "var(--vx-muted)" }, g);
      var t = ctx.svg("text", { x: (sx(data.rate[i]) + 7).toFixed(2), y: (sy(data.distortion[i]) - 7).toFixed(2) }, g);
      t.textContent = "β=" + ctx.fmt(b, 4);
      return g;
    });
    var current = ctx.svg("circle", { r: 8, fill: "var(--vx-q)", stroke: "var(--vx-fg)", "stroke-width": 1.5, "class": "vx-beta-current" }, rd);

    // --- latent scatter of the chosen model
    var sc = ctx.svg("svg", { viewBox: "0 0 280 280", role: "img", "class": "vx-beta-latent", style: "flex:1 1 240px;max-width:360px" }, row);
    var zx = ctx.scale(-ext, ext, 44, 272), zy = ctx.scale(-ext, ext, 236, 8);
    ctx.axes(sc, zx, zy, { xlabel: "z₁", ylabel: "z₂", xticks: 6, yticks: 6 });
    var dots = ctx.svg("g", { "aria-hidden": "true" }, sc);
    var circles = data.labels.map(function (lab) {
      return ctx.svg("circle", { r: 2.2, fill: data.colors[lab], "fill-opacity": 0.85 }, dots);
    });

    // --- controls, read-out, legend
    var controls = ctx.el("div", { "class": "vx-controls" }, figure);
    var readout = ctx.readout(figure, [["beta", "β"], ["rate", ctx.t("taxa R", "rate R")],
      ["distortion", ctx.t("distorção D", "distortion D")], ["elbo", "ELBO = −(R + D)"]]);
    var legend = ctx.el("ul", { "aria-label": ctx.t("cores dos dígitos", "digit colours"),
      style: "display:flex;flex-wrap:wrap;gap:0.2em 0.9em;list-style:none;padding:0;margin:0.4em 0 0" }, figure);
    data.colors.forEach(function (c, k) {
      var li = ctx.el("li", { style: "display:flex;align-items:center;gap:0.3em;margin:0" }, legend);
      ctx.el("span", { "aria-hidden": "true", style: "display:inline-block;width:0.8em;height:0.8em;border-radius:50%;background:" + c }, li);
      ctx.el("span", {}, li, ctx.t("dígito ", "digit ") + k);
    });

    function show(i) {
      var b = data.betas[i], r = data.rate[i], d = data.distortion[i];
      points.forEach(function (g, k) { g.setAttribute("font-weight", k === i ? "700" : "400"); });
      current.setAttribute("cx", sx(r).toFixed(2));
      current.setAttribute("cy", sy(d).toFixed(2));
      var r0 = 0, r1 = sx.domain[1];  // D = d + b (r - R) from R = 0 to the right edge
      level.setAttribute("d", ctx.linePath([r0, r1], [d + b * (r - r0), d + b * (r - r1)], sx, sy));
      var means = data.means[i];
      for (var k = 0; k < circles.length; k++) {
        var x = Math.min(Math.max(means[k][0], -ext), ext), y = Math.min(Math.max(means[k][1], -ext), ext);
        circles[k].setAttribute("cx", zx(x).toFixed(1));
        circles[k].setAttribute("cy", zy(y).toFixed(1));
      }
      readout.set("beta", ctx.fmt(b, 4));
      readout.set("rate", ctx.fmt(r, 4) + " nats");
      readout.set("distortion", ctx.fmt(d, 4) + " nats");
      readout.set("elbo", ctx.fmt(data.elbo[i], 4) + " nats");
      rd.setAttribute("aria-label", ctx.t("Plano taxa–distorção dos modelos treinados; destacado: β = ", "Rate–distortion plane of the trained models; highlighted: β = ") +
        ctx.fmt(b, 4) + ", R = " + ctx.fmt(r, 4) + ", D = " + ctx.fmt(d, 4) + ctx.t(", com a reta D + βR constante", ", with the line of constant D + βR"));
      sc.setAttribute("aria-label", ctx.t("Médias codificadas dos dígitos de teste no plano latente do modelo com β = ",
        "Encoded means of the test digits in the latent plane of the model with β = ") + ctx.fmt(b, 4));
      figure.setAttribute("data-index", String(i));
    }

    ctx.slider(controls, { label: ctx.t("modelo treinado com β", "model trained with β"), min: 0, max: m - 1, step: 1, value: 0,
      format: function (i) { return "β = " + ctx.fmt(data.betas[i], 4); }, onInput: show });
    show(0);
  });
})();
