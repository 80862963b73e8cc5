/* The course's reader helpers (both languages). Loaded on every page after the themes'
   scripts (html_js_files in _config.yml); plain ES2017, no dependency, nothing fetched. */
(function () {
  "use strict";
  var lang = (document.documentElement.lang || "en").toLowerCase();
  var PT = lang.indexOf("pt") === 0;

  /* sphinx-copybutton knows no Portuguese: add it before its buttons are made (on DOM load).
     `messages` and `locale` are copybutton.js's global bindings. */
  if (PT) {
    try {
      /* global messages:writable, locale:writable */
      messages["pt-br"] = messages["pt-BR"] = {
        copy: "Copiar", copy_to_clipboard: "Copiar para a área de transferência",
        copy_success: "Copiado!", copy_failure: "Não foi possível copiar"
      };
      locale = "pt-BR";
    } catch (e) { /* no copy buttons on this page */ }
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  /* ------------------------------------------------------------ twin links keep your place
     scripts/build_book.py gives every section the id of its twin as an extra anchor, so
     "<twin>.html#<this section's id>" lands on the same section in the other language. */
  function currentSectionId() {
    var sections = document.querySelectorAll("article.bd-article section[id]");
    var header = document.querySelector(".bd-header-article");
    // the reading line: a little below the sticky header (a heading scrolled to sits there)
    var offset = Math.max(header ? header.getBoundingClientRect().bottom : 0, 0) + Math.min(120, window.innerHeight / 4);
    var current = null;
    for (var i = 1; i < sections.length; i++) {  // sections[0] is the page itself: its top
      if (sections[i].getBoundingClientRect().top <= offset) current = sections[i];
    }
    if (!current && location.hash) {
      var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target && target.closest("article.bd-article") && target.getBoundingClientRect().top < window.innerHeight) {
        return target.id;
      }
    }
    return current ? current.id : null;
  }
  function pointTwin(link) {
    var base = link.getAttribute("data-twin") || link.getAttribute("href").split("#")[0];
    var id = currentSectionId();
    link.setAttribute("href", id ? base + "#" + encodeURIComponent(id) : base);
  }
  ready(function () {
    document.querySelectorAll("a.twin-link").forEach(function (link) {
      ["pointerdown", "mousedown", "touchstart", "focus", "click", "contextmenu"].forEach(function (ev) {
        link.addEventListener(ev, function () { pointTwin(link); }, {passive: true});
      });
    });
  });

  /* ------------------------------------------------------------ figures open full size
     Every content image not already in a link becomes a link to its file: a tap shows it at
     full resolution, where the phone's pinch zoom works. */
  ready(function () {
    document.querySelectorAll("article.bd-article img").forEach(function (img) {
      if (img.closest("a") || img.classList.contains("course-animation") || /^data:/.test(img.getAttribute("src") || "")) return;
      var link = document.createElement("a");
      link.className = "figure-zoom";
      link.href = img.getAttribute("src");
      img.parentNode.insertBefore(link, img);
      link.appendChild(img);
    });
  });

  /* ------------------------------------------------------------ dark mode and figures
     A figure whose corner pixel is transparent (vae_support.plot's style) is shown as it is in
     dark mode; older opaque figures keep the theme's white card (course.css). */
  function markTransparent(img) {
    try {
      var canvas = document.createElement("canvas");
      canvas.width = canvas.height = 1;
      var ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0, 1, 1, 0, 0, 1, 1);
      if (ctx.getImageData(0, 0, 1, 1).data[3] < 16) img.classList.add("transparent-figure");
    } catch (e) { /* cross-origin or not decoded: leave it */ }
  }
  ready(function () {
    document.querySelectorAll("article.bd-article img").forEach(function (img) {
      if (img.complete && img.naturalWidth) markTransparent(img);
      else img.addEventListener("load", function () { markTransparent(img); }, {once: true});
    });
  });
})();

/* Display equations and tables wider than their box scroll inside it (course.css): such a box
   must be reachable by keyboard (axe: scrollable-region-focusable), the others stay out of the
   tab order. */
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("div.math > mjx-container, .bd-article table").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0" && !box.hasAttribute("data-keep-tabindex")) {
        box.removeAttribute("tabindex");
      }
    });
  }
  var timer = null;
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(mark, 150); });
  function start() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(mark);
    else mark();
  }
  if (document.readyState !== "loading") start(); else document.addEventListener("DOMContentLoaded", start);
})();

/* A <summary> keeps its visible text as its name (axe: label-content-name-mismatch):
   myst-nb gives hidden cells' summaries an English aria-label that differs from it. */
(function () {
  "use strict";
  function fix() {
    document.querySelectorAll("summary[aria-label]").forEach(function (s) { s.removeAttribute("aria-label"); });
  }
  if (document.readyState !== "loading") fix(); else document.addEventListener("DOMContentLoaded", fix);
})();

/* sphinx-togglebutton writes an English aria-label into its buttons (after DOM load). */
(function () {
  "use strict";
  if ((document.documentElement.lang || "").toLowerCase().indexOf("pt") !== 0) return;
  function relabel() {
    document.querySelectorAll('button.toggle-button[aria-label="Toggle hidden content"]').forEach(function (b) {
      b.setAttribute("aria-label", "Mostrar ou ocultar o conteúdo");
    });
  }
  if (document.readyState !== "loading") setTimeout(relabel, 0);
  else document.addEventListener("DOMContentLoaded", function () { setTimeout(relabel, 0); });
})();
