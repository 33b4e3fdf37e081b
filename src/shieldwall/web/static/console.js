// Shieldwall review console: keyboard shortcuts and in-place reveal. Every page works without
// this file; it only saves clicks. Shortcuts are ignored while typing in a field.
(function () {
  "use strict";
  function typing(target) {
    var tag = target && target.tagName;
    if (tag === "INPUT") {
      return ["radio", "checkbox", "button", "submit", "hidden"].indexOf(target.type) < 0;
    }
    return tag === "TEXTAREA" || tag === "SELECT" || !!(target && target.isContentEditable);
  }
  function click(selector) {
    var el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }
  function check(id) {
    var el = document.getElementById(id);
    if (el) { el.checked = true; el.focus(); return true; }
    return false;
  }

  // Queue: j/k move the selection, o/Enter open, c claim the next case.
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue-table tbody tr"));
  var selected = -1;
  function select(i) {
    if (!rows.length) { return; }
    if (selected >= 0) { rows[selected].classList.remove("selected"); }
    selected = Math.max(0, Math.min(rows.length - 1, i));
    rows[selected].classList.add("selected");
    var link = rows[selected].querySelector("a");
    if (link) { link.focus(); }
  }

  // Case: reveal in place (the image is fetched again, unblurred; the server records the
  // reveal), or blur again.
  var revealButton = document.getElementById("reveal-previews");
  var hideButton = document.getElementById("hide-previews");
  function setPreviews(full) {
    document.querySelectorAll("img[data-preview]").forEach(function (img) {
      img.src = "/console/cases/" + img.dataset.case + "/preview/" + img.dataset.index +
        "?view=" + (full ? "full" : "blurred");
      img.alt = img.alt.replace(full ? "blurred, greyscale" : "revealed", full ? "revealed" : "blurred, greyscale");
    });
    var form = document.getElementById("decision-form");
    if (form) {
      var keep = form.querySelector("input[name=reveal]");
      if (full && !keep) {
        keep = document.createElement("input");
        keep.type = "hidden"; keep.name = "reveal"; keep.value = "1";
        form.appendChild(keep);
      } else if (!full && keep) { keep.remove(); }
    }
  }
  var revealed = !!hideButton;
  function toggle(event) {
    if (event) { event.preventDefault(); }
    revealed = !revealed;
    setPreviews(revealed);
    var button = revealButton || hideButton;
    button.textContent = revealed ? "Blur previews again" : "Reveal previews";
    button.classList.toggle("secondary", revealed);
    document.body.dataset.revealed = revealed ? "1" : "0";
  }
  var toggleButton = revealButton || hideButton;
  if (toggleButton) { toggleButton.addEventListener("click", toggle); }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey && event.key === "Enter") {
      var form = document.getElementById("decision-form");
      if (form) { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var handled = true;
    switch (event.key) {
      case "j": select(selected + 1); break;
      case "k": select(selected - 1); break;
      case "o":
      case "Enter":
        if (selected >= 0) { window.location.href = rows[selected].dataset.href; } else { handled = false; }
        break;
      case "c": handled = click("#claim-next"); break;
      case "v": if (toggleButton) { toggle(null); } else { handled = false; } break;
      case "r": handled = check("action-remove"); break;
      case "s": handled = check("action-restrict"); break;
      case "l": handled = check("action-label"); break;
      case "n": handled = check("action-no_action"); break;
      case "g": handled = check("ground-law"); break;
      case "t": handled = check("ground-terms"); break;
      case "e":
        var reason = document.getElementById("reason");
        if (reason) { reason.focus(); } else { handled = false; }
        break;
      case "q":
        var back = document.querySelector("a[href^='/console/queue']");
        if (back) { window.location.href = back.getAttribute("href"); } else { handled = false; }
        break;
      case "?":
        var help = document.getElementById("shortcuts");
        if (help) { help.open = !help.open; } else { handled = false; }
        break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });
})();
