// fundapp: progressive enhancements only; every page works without this file.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // Phone navigation: the menu button opens and closes the side navigation.
    var toggle = document.querySelector("[data-nav-toggle]");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var open = document.body.classList.toggle("nav-open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }

    // Forms with data-confirm ask before they are sent. data-confirm-fill, when present,
    // names what is being sent: {field} is replaced by the value typed in that field.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var text = form.getAttribute("data-confirm");
        var fill = form.getAttribute("data-confirm-fill");
        if (fill) {
          text = fill.replace(/\{([a-z_]+)\}/g, function (all, name) {
            var control = form.querySelector('[name="' + name + '"], [name$="-' + name + '"]');
            return control && control.value.trim() ? control.value.trim() : "…";
          });
        }
        if (!window.confirm(text)) {
          event.preventDefault();
        }
      });
    });

    // data-show-if="field=value": show a block only while that select has that value.
    document.querySelectorAll("[data-show-if]").forEach(function (block) {
      var rule = block.getAttribute("data-show-if").split("=");
      var control = document.getElementById(rule[0]);
      if (!control) { return; }
      var update = function () {
        var show = control.value === rule[1] || block.querySelector("[aria-invalid=true]");
        block.hidden = !show;
      };
      control.addEventListener("change", update);
      update();
    });

    enhanceMoney();
    enhanceDates();
  });

  // Money fields (class input-money): thousands separators appear while typing. The server
  // reads 1.500.000, 1,500,000 and 1500000 alike, so without this file nothing is lost.
  function enhanceMoney() {
    var sep = (root.getAttribute("lang") || "vi").indexOf("vi") === 0 ? "." : ",";
    document.querySelectorAll("input.input-money, input[data-money]").forEach(function (input) {
      var format = function () {
        var raw = input.value;
        if (!/^[0-9., ]*$/.test(raw)) { return; } // leave anything odd for the server's message
        var caret = input.selectionStart === null ? raw.length : input.selectionStart;
        var digitsBefore = raw.slice(0, caret).replace(/[^0-9]/g, "").length;
        var digits = raw.replace(/[^0-9]/g, "").replace(/^0+(?=[0-9])/, "");
        var grouped = digits.replace(/\B(?=([0-9]{3})+(?![0-9]))/g, sep);
        if (grouped === raw) { return; }
        input.value = grouped;
        var pos = 0, seen = 0;
        while (pos < grouped.length && seen < digitsBefore) {
          if (/[0-9]/.test(grouped.charAt(pos))) { seen += 1; }
          pos += 1;
        }
        if (document.activeElement === input) { input.setSelectionRange(pos, pos); }
      };
      input.addEventListener("input", format);
      format();
    });
  }

  // Date fields: one kind everywhere, a text field in dd/mm/yyyy with a small calendar.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function parseDmy(text) {
    var m = /^([0-9]{1,2})\/([0-9]{1,2})\/([0-9]{4})$/.exec((text || "").trim());
    if (!m) { return null; }
    var d = new Date(+m[3], +m[2] - 1, +m[1]);
    return d.getMonth() === +m[2] - 1 ? d : null;
  }
  function enhanceDates() {
    var vi = (root.getAttribute("lang") || "vi").indexOf("vi") === 0;
    var days = vi ? ["T2", "T3", "T4", "T5", "T6", "T7", "CN"] : ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
    var open = null;
    var close = function () { if (open) { open.remove(); open = null; } };
    document.addEventListener("click", function (event) {
      if (open && !open.contains(event.target) && !event.target.closest(".date-btn")) { close(); }
    });
    document.addEventListener("keydown", function (event) { if (event.key === "Escape") { close(); } });
    document.querySelectorAll('input[data-date], input[placeholder="dd/mm/yyyy"]').forEach(function (input) {
      if (input.type !== "text" || input.dataset.dateReady) { return; }
      input.dataset.dateReady = "1";
      if (!input.getAttribute("pattern")) { input.setAttribute("pattern", "[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"); }
      input.setAttribute("inputmode", "numeric");
      var wrap = document.createElement("span");
      wrap.className = "date-wrap";
      input.parentNode.insertBefore(wrap, input);
      wrap.appendChild(input);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "date-btn";
      button.setAttribute("aria-label", vi ? "Chọn ngày trên lịch" : "Pick a date");
      // A small calendar icon drawn as SVG (no icon font, no inline markup).
      var ns = "http://www.w3.org/2000/svg";
      var icon = document.createElementNS(ns, "svg");
      icon.setAttribute("viewBox", "0 0 16 16");
      icon.setAttribute("width", "16");
      icon.setAttribute("height", "16");
      icon.setAttribute("aria-hidden", "true");
      [["rect", { x: "1.5", y: "3", width: "13", height: "11.5", rx: "1.5", fill: "none", stroke: "currentColor" }],
       ["line", { x1: "1.5", y1: "6.5", x2: "14.5", y2: "6.5", stroke: "currentColor" }],
       ["line", { x1: "5", y1: "1", x2: "5", y2: "4.5", stroke: "currentColor" }],
       ["line", { x1: "11", y1: "1", x2: "11", y2: "4.5", stroke: "currentColor" }]].forEach(function (spec) {
        var el = document.createElementNS(ns, spec[0]);
        Object.keys(spec[1]).forEach(function (k) { el.setAttribute(k, spec[1][k]); });
        icon.appendChild(el);
      });
      button.appendChild(icon);
      wrap.appendChild(button);
      button.addEventListener("click", function () {
        if (open && open.dataset.for === input.id) { close(); return; }
        close();
        var chosen = parseDmy(input.value);
        var shown = chosen ? new Date(chosen) : new Date();
        shown.setDate(1);
        var box = document.createElement("div");
        box.className = "date-pop";
        box.dataset.for = input.id;
        box.setAttribute("role", "dialog");
        var draw = function () {
          box.textContent = "";
          var head = document.createElement("div");
          head.className = "date-head";
          var prev = document.createElement("button");
          prev.type = "button"; prev.textContent = "\u2039"; prev.setAttribute("aria-label", vi ? "Tháng trước" : "Previous month");
          var next = document.createElement("button");
          next.type = "button"; next.textContent = "\u203A"; next.setAttribute("aria-label", vi ? "Tháng sau" : "Next month");
          var title = document.createElement("span");
          title.textContent = (vi ? "Tháng " : "") + pad(shown.getMonth() + 1) + "/" + shown.getFullYear();
          prev.addEventListener("click", function () { shown.setMonth(shown.getMonth() - 1); draw(); });
          next.addEventListener("click", function () { shown.setMonth(shown.getMonth() + 1); draw(); });
          head.appendChild(prev); head.appendChild(title); head.appendChild(next);
          box.appendChild(head);
          var grid = document.createElement("div");
          grid.className = "date-grid";
          days.forEach(function (d) { var s = document.createElement("span"); s.textContent = d; grid.appendChild(s); });
          var lead = (shown.getDay() + 6) % 7;
          for (var i = 0; i < lead; i += 1) { grid.appendChild(document.createElement("span")); }
          var last = new Date(shown.getFullYear(), shown.getMonth() + 1, 0).getDate();
          for (var day = 1; day <= last; day += 1) {
            var b = document.createElement("button");
            b.type = "button";
            b.textContent = day;
            var text = pad(day) + "/" + pad(shown.getMonth() + 1) + "/" + shown.getFullYear();
            if (input.value.trim() === text) { b.className = "is-chosen"; }
            b.dataset.value = text;
            b.addEventListener("click", function (event) {
              input.value = event.currentTarget.dataset.value;
              input.dispatchEvent(new Event("change", { bubbles: true }));
              close();
              input.focus();
            });
            grid.appendChild(b);
          }
          box.appendChild(grid);
        };
        draw();
        wrap.appendChild(box);
        open = box;
      });
    });
  }
})();
