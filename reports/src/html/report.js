// Tabs, the step slider and the state inspector. Everything the page needs
// is in the #run-data JSON; no network.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("run-data").textContent);
  var events = data.events;
  var slider = document.getElementById("step");
  var first = data.first;
  var last = first + Math.max(events.length - 1, 0);
  slider.min = first;
  slider.max = last;

  function showTab(id) {
    document.querySelectorAll("section.tab").forEach(function (s) {
      s.hidden = s.id !== "tab-" + id;
    });
    document.querySelectorAll("nav button").forEach(function (b) {
      b.setAttribute("aria-selected", b.dataset.tab === id ? "true" : "false");
    });
  }

  // The states at `step`: those its handler left (a handler runs at one
  // instant; its states are recorded on its last event).
  function statesAt(step) {
    var here = events[step - first];
    var settled = here && here.ends !== undefined ? here.ends : step;
    var states = {};
    Object.keys(data.initial).forEach(function (k) { states[k] = data.initial[k]; });
    var changed = {};
    events.forEach(function (e) {
      if (e.step > settled) { return; }
      Object.keys(e.state).forEach(function (k) {
        states[k] = e.state[k];
        if (e.step === settled) { changed[k] = true; }
      });
    });
    return { states: states, changed: changed, settled: settled };
  }

  function showStates(step) {
    var at = statesAt(step);
    document.querySelectorAll("#states tbody tr").forEach(function (tr) {
      var name = tr.dataset.actor;
      var s = at.states[name];
      tr.classList.toggle("changed", !!at.changed[name]);
      tr.classList.toggle("down", !!s && !s.up);
      tr.querySelector(".up").textContent = !s ? "not started" : (s.up ? "running" : "CRASHED");
      tr.querySelector(".durable").textContent = s ? s.durable : "";
      tr.querySelector(".volatile").textContent = !s ? "" : (s.volatile === null ? "— (lost in the crash)" : s.volatile);
    });
  }

  function currentTab() {
    var on = document.querySelector("nav button[aria-selected=true]");
    return on ? on.dataset.tab : "summary";
  }

  // The element of a picture that shows `step`: its own, else the last
  // drawn before it (sends, receipts and acks share the row above).
  function shownAt(box, step) {
    var own = box.querySelector('[data-step="' + step + '"]');
    if (own) { return own; }
    var best = null;
    var bestStep = -1;
    box.querySelectorAll("[data-step]").forEach(function (el) {
      var s = Number(el.dataset.step);
      if (s <= step && s > bestStep) { best = el; bestStep = s; }
    });
    return best;
  }

  // Scroll `el` into the middle of its scrolling box, not the page, so the
  // stepper and the state table stay in view.
  function centre(box, el) {
    var r = el.getBoundingClientRect();
    var b = box.getBoundingClientRect();
    box.scrollTop += (r.top - b.top) - box.clientHeight / 2;
    box.scrollLeft += (r.left - b.left) - box.clientWidth / 3;
  }

  // Show the run at `step`; `byUser` also records it in the address
  // (`#step=N&tab=…`), so the view can be linked and reloaded.
  function setStep(step, byUser) {
    step = Math.max(first, Math.min(last, step));
    slider.value = step;
    document.getElementById("step-now").textContent = String(step);
    var e = events[step - first];
    document.getElementById("step-text").textContent = !e ? "" : e.text +
      (e.ends !== undefined ? "  (states: as its handler leaves them, at step " + e.ends + ")" : "");
    // The counterexample under Explanation numbers its own steps: the whole
    // run's picture, the events table and the story links follow the slider.
    document.querySelectorAll("#tab-spacetime [data-step], #events [data-step], .story [data-step]").forEach(function (el) {
      var s = Number(el.dataset.step);
      el.classList.toggle("future", s > step && !el.classList.contains("story-step"));
      el.classList.remove("current");
    });
    document.querySelectorAll('.story [data-step="' + step + '"], #events [data-step="' + step + '"]').forEach(function (el) {
      el.classList.add("current");
    });
    var panel = document.getElementById("tab-spacetime");
    var box = panel.querySelector(".picture");
    var now = box ? shownAt(box, step) : null;
    if (now) {
      now.classList.add("current");
      if (!panel.hidden) { centre(box, now); }
    }
    showStates(step);
    if (byUser) {
      history.replaceState(null, "", "#step=" + step + "&tab=" + currentTab());
    }
  }

  function readHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var p = kv.split("=");
      if (p[0]) { params[p[0]] = decodeURIComponent(p[1] || ""); }
    });
    if (params.tab) { showTab(params.tab); }
    if (params.step !== undefined && !isNaN(Number(params.step))) {
      if (!params.tab) { showTab("spacetime"); }
      setStep(Number(params.step), false);
    }
  }

  function step(by) { setStep(Number(slider.value) + by, true); }

  document.querySelectorAll("nav button").forEach(function (b) {
    b.addEventListener("click", function () {
      showTab(b.dataset.tab);
      setStep(Number(slider.value), true);
    });
  });
  slider.addEventListener("input", function () { setStep(Number(slider.value), true); });
  document.getElementById("step-first").addEventListener("click", function () { setStep(first, true); });
  document.getElementById("step-last").addEventListener("click", function () { setStep(last, true); });
  document.getElementById("step-prev").addEventListener("click", function () { step(-1); });
  document.getElementById("step-next").addEventListener("click", function () { step(1); });
  var focus = document.getElementById("step-focus");
  if (data.focus === null) { focus.hidden = true; }
  focus.addEventListener("click", function () { showTab("spacetime"); setStep(data.focus, true); });
  document.querySelectorAll(".story a[data-step]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      setStep(Number(a.dataset.step), true);
    });
  });
  // Keys step through the run anywhere but in a text field or on the
  // slider (which has its own).
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.altKey || ev.ctrlKey || ev.metaKey || t === slider ||
        (t.tagName === "INPUT" && t.type !== "range") || t.tagName === "TEXTAREA") { return; }
    var moves = { ArrowLeft: -1, k: -1, ArrowRight: 1, j: 1 };
    if (moves[ev.key] !== undefined) { step(moves[ev.key]); ev.preventDefault(); }
    else if (ev.key === "Home") { setStep(first, true); ev.preventDefault(); }
    else if (ev.key === "End") { setStep(last, true); ev.preventDefault(); }
  });
  document.getElementById("filter").addEventListener("input", function (ev) {
    var q = ev.target.value.toLowerCase();
    document.querySelectorAll("#events tbody tr").forEach(function (tr) {
      tr.hidden = q !== "" && tr.textContent.toLowerCase().indexOf(q) < 0;
    });
  });
  window.addEventListener("hashchange", readHash);
  showTab("summary");
  setStep(last, false);
  readHash();
}());
