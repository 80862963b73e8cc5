/* The latent walker (vae_support/explorers/static/explorer-latent.js), data from
 * vae_support.explorers.latent.latent_explorer.
 *
 * A point on the 2-D latent plane (drag it, use the arrow keys on the focused plane, or the two
 * sliders) and the digit decoded there. The notebook decoded an n x n grid of latent points; the
 * page interpolates bilinearly between the four decodings around the point (at a grid point it
 * shows that decoding, to the stored 0.1 grey level).
 */
(function () {
  "use strict";
  VaeExplorers.register("latent", function (figure, data, ctx) {
    var n = data.n, ext = data.extent, side = data.side, h = side[1] - side[0];
    var rows = data.shape[0], cols = data.shape[1], npx = rows * cols, vmax = data.vmax;
    var STEP = 0.05;  // slider step; the arrow keys on the plane move 0.1 (Shift: 0.5)
    var images = data.images.map(function (hex) {
      var out = new Float64Array(npx);
      for (var p = 0; p < npx; p++) out[p] = parseInt(hex.substr(2 * p, 2), 16) * data.step;
      return out;
    });
    var z = [0, 0];

    /* Bilinear interpolation of the grid decodings at (z1, z2). */
    function decodeAt(z1, z2) {
      var u = (z1 + ext) / h, v = (z2 + ext) / h;
      var j0 = Math.min(Math.max(Math.floor(u + 1e-9), 0), n - 2), i0 = Math.min(Math.max(Math.floor(v + 1e-9), 0), n - 2);
      var tu = Math.min(Math.max(u - j0, 0), 1), tv = Math.min(Math.max(v - i0, 0), 1);
      if (tu < 1e-9) tu = 0; if (tv < 1e-9) tv = 0;
      if (tu > 1 - 1e-9) tu = 1; if (tv > 1 - 1e-9) tv = 1;
      var a = images[i0 * n + j0], b = images[i0 * n + j0 + 1], c = images[(i0 + 1) * n + j0], d = images[(i0 + 1) * n + j0 + 1];
      var out = new Float64Array(npx);
      for (var p = 0; p < npx; p++) {
        out[p] = (1 - tu) * (1 - tv) * a[p] + tu * (1 - tv) * b[p] + (1 - tu) * tv * c[p] + tu * tv * d[p];
      }
      return out;
    }

    function nearest(z1, z2) {
      var best = -1, bd = Infinity;
      for (var k = 0; k < data.means.length; k++) {
        var dx = data.means[k][0] - z1, dy = data.means[k][1] - z2, dd = dx * dx + dy * dy;
        if (dd < bd) { bd = dd; best = k; }
      }
      return best < 0 ? null : data.labels[best];
    }

    var row = ctx.el("div", { "class": "vx-latent-row", style: "display:flex;flex-wrap:wrap;gap:0.5em;justify-content:center;align-items:flex-start" }, figure);
    var help = ctx.el("p", { id: ctx.id("help"), style: "margin:0.3em 0;font-size:0.9em" }, null,
      ctx.t("Arraste o ponto, ou foque o plano e use as setas (Shift: passos maiores), ou os controles deslizantes.",
            "Drag the point, or focus the plane and use the arrow keys (Shift: larger steps), or the sliders."));

    // --- the latent plane
    var W = 300, H = 300, L = 44, R = 292, T = 8, B = 256;
    var plane = ctx.svg("svg", { viewBox: "0 0 " + W + " " + H, tabindex: "0", role: "application",
      "aria-roledescription": ctx.t("plano latente", "latent plane"), "aria-describedby": help.id,
      "class": "vx-latent-plane", style: "flex:1 1 260px;max-width:400px;touch-action:none;cursor:crosshair" }, row);
    var sx = ctx.scale(-ext, ext, L, R), sy = ctx.scale(-ext, ext, B, T);
    ctx.axes(plane, sx, sy, { xlabel: "z₁", ylabel: "z₂", xticks: 6, yticks: 6 });
    var dots = ctx.svg("g", { "aria-hidden": "true" }, plane);
    data.means.forEach(function (m, k) {
      if (Math.abs(m[0]) > ext || Math.abs(m[1]) > ext) return;
      ctx.svg("circle", { cx: sx(m[0]).toFixed(1), cy: sy(m[1]).toFixed(1), r: 2.2, fill: data.colors[data.labels[k]], "fill-opacity": 0.85 }, dots);
    });
    var marker = ctx.svg("g", { "class": "vx-latent-marker", "aria-hidden": "true" }, plane);
    ctx.svg("circle", { r: 9, fill: "none", stroke: "var(--vx-fg)", "stroke-width": 2.5 }, marker);
    ctx.svg("path", { d: "M-14 0H-5M5 0H14M0 -14V-5M0 5V14", stroke: "var(--vx-fg)", "stroke-width": 2.5 }, marker);

    // --- the decoded digit
    var PX = 20, X0 = 8, Y0 = 8;
    var digit = ctx.svg("svg", { viewBox: "0 0 " + (2 * X0 + cols * PX) + " " + (Y0 + rows * PX + 30), role: "img",
      "class": "vx-latent-digit", style: "flex:0 1 176px;max-width:200px" }, row);
    ctx.svg("rect", { x: X0, y: Y0, width: cols * PX, height: rows * PX, fill: "#ffffff", stroke: "var(--vx-muted)" }, digit);
    var pixels = [];
    for (var p = 0; p < npx; p++) {
      pixels.push(ctx.svg("rect", { x: X0 + (p % cols) * PX, y: Y0 + Math.floor(p / cols) * PX, width: PX + 0.3, height: PX + 0.3, fill: "#000000" }, digit));
    }
    var cap = ctx.svg("text", { x: X0 + cols * PX / 2, y: Y0 + rows * PX + 20, "text-anchor": "middle" }, digit);
    cap.textContent = ctx.t("dígito decodificado", "decoded digit");
    figure.appendChild(help);

    // --- controls, read-out, legend
    var controls = ctx.el("div", { "class": "vx-controls" }, figure);
    var fmtz = function (v) { return ctx.fmt(v, 3); };
    var s1 = ctx.slider(controls, { label: "z₁", min: -ext, max: ext, step: STEP, value: 0, format: fmtz, onInput: function (v) { setZ(v, z[1], s1); } });
    var s2 = ctx.slider(controls, { label: "z₂", min: -ext, max: ext, step: STEP, value: 0, format: fmtz, onInput: function (v) { setZ(z[0], v, s2); } });
    var readout = ctx.readout(figure, [["near", ctx.t("dígito de teste codificado mais próximo", "nearest encoded test digit")]]);
    var legend = ctx.el("ul", { "class": "vx-legend", "aria-label": ctx.t("cores dos dígitos", "digit colours"),
      style: "display:flex;flex-wrap:wrap;gap:0.2em 0.9em;list-style:none;padding:0;margin:0.4em 0 0" }, figure);
    data.colors.forEach(function (c, k) {
      var li = ctx.el("li", { style: "display:flex;align-items:center;gap:0.3em;margin:0" }, legend);
      ctx.el("span", { "aria-hidden": "true", style: "display:inline-block;width:0.8em;height:0.8em;border-radius:50%;background:" + c }, li);
      ctx.el("span", {}, li, ctx.t("dígito ", "digit ") + k);
    });

    function setSlider(input, v) {
      input.value = v;
      var out = input.parentNode.querySelector("output");
      out.textContent = fmtz(Number(input.value));
      input.setAttribute("aria-valuetext", out.textContent);
    }

    function setZ(z1, z2, from) {
      var snap = function (v) { return Math.round(Math.min(Math.max(v, -ext), ext) / STEP) * STEP; };
      z = [Number(snap(z1).toFixed(4)), Number(snap(z2).toFixed(4))];
      if (from !== s1) setSlider(s1, z[0]);
      if (from !== s2) setSlider(s2, z[1]);
      marker.setAttribute("transform", "translate(" + sx(z[0]).toFixed(2) + " " + sy(z[1]).toFixed(2) + ")");
      var img = decodeAt(z[0], z[1]);
      for (var p = 0; p < npx; p++) {
        pixels[p].setAttribute("fill-opacity", Math.min(Math.max(img[p] / vmax, 0), 1).toFixed(4));
        pixels[p].setAttribute("data-value", img[p].toFixed(2));
      }
      var near = nearest(z[0], z[1]);
      readout.set("near", near === null ? "–" : String(near));
      var where = "z = (" + fmtz(z[0]) + "; " + fmtz(z[1]) + ")";
      plane.setAttribute("aria-label", ctx.t("Plano latente com as médias codificadas dos dígitos de teste; ponto em ",
        "Latent plane with the encoded means of the test digits; point at ") + where);
      digit.setAttribute("aria-label", ctx.t("Dígito decodificado em ", "Digit decoded at ") + where +
        ctx.t(" (interpolação bilinear das decodificações da grade); o dígito de teste mais próximo é um ",
              " (bilinear interpolation of the grid decodings); the nearest test digit is a ") + near);
      figure.setAttribute("data-z", z[0] + "," + z[1]);
    }

    // keyboard on the plane
    plane.addEventListener("keydown", function (ev) {
      var d = ev.shiftKey ? 0.5 : 0.1, dz = { ArrowLeft: [-d, 0], ArrowRight: [d, 0], ArrowUp: [0, d], ArrowDown: [0, -d] }[ev.key];
      if (!dz) return;
      ev.preventDefault();
      setZ(z[0] + dz[0], z[1] + dz[1]);
    });
    // mouse and touch
    var dragging = false;
    function fromPointer(ev) {
      var m = plane.getScreenCTM();
      if (!m) return;
      var pt = plane.createSVGPoint();
      pt.x = ev.clientX; pt.y = ev.clientY;
      var q = pt.matrixTransform(m.inverse());
      setZ(sx.invert(q.x), sy.invert(q.y));
    }
    plane.addEventListener("pointerdown", function (ev) {
      dragging = true;
      if (plane.setPointerCapture && ev.pointerId !== undefined) { try { plane.setPointerCapture(ev.pointerId); } catch (e) { /* synthetic events */ } }
      plane.focus();
      fromPointer(ev);
      ev.preventDefault();
    });
    plane.addEventListener("pointermove", function (ev) { if (dragging) fromPointer(ev); });
    ["pointerup", "pointercancel"].forEach(function (name) { plane.addEventListener(name, function () { dragging = false; }); });

    setZ(0, 0);
  });
})();
