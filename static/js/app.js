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

    // Forms with data-confirm ask before they are sent.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
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
  });
})();
