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

  function statesAt(step) {
    var states = {};
    Object.keys(data.initial).forEach(function (k) { states[k] = data.initial[k]; });
    var changed = {};
    events.forEach(function (e) {
      if (e.step > step) { return; }
      Object.keys(e.state).forEach(function (k) {
        states[k] = e.state[k];
        if (e.step === step) { changed[k] = true; }
      });
    });
    return { states: states, changed: changed };
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

  function setStep(step) {
    step = Math.max(first, Math.min(last, step));
    slider.value = step;
    document.getElementById("step-now").textContent = String(step);
    var e = events[step - first];
    document.getElementById("step-text").textContent = e ? e.text : "";
    document.querySelectorAll("[data-step]").forEach(function (el) {
      var s = Number(el.dataset.step);
      el.classList.toggle("future", s > step);
      el.classList.toggle("current", s === step);
    });
    showStates(step);
    var panel = document.getElementById("tab-spacetime");
    var now = panel.querySelector(".current");
    var box = panel.querySelector(".picture");
    if (now && box && !panel.hidden) {
      // Scroll the picture, not the page, so the state table stays in view.
      var r = now.getBoundingClientRect();
      var b = box.getBoundingClientRect();
      box.scrollTop += (r.top - b.top) - box.clientHeight / 2;
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
      setStep(Number(params.step));
    }
  }

  document.querySelectorAll("nav button").forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.dataset.tab); });
  });
  slider.addEventListener("input", function () { setStep(Number(slider.value)); });
  document.getElementById("step-first").addEventListener("click", function () { setStep(first); });
  document.getElementById("step-last").addEventListener("click", function () { setStep(last); });
  document.getElementById("step-prev").addEventListener("click", function () { setStep(Number(slider.value) - 1); });
  document.getElementById("step-next").addEventListener("click", function () { setStep(Number(slider.value) + 1); });
  var focus = document.getElementById("step-focus");
  if (data.focus === null) { focus.hidden = true; }
  focus.addEventListener("click", function () { setStep(data.focus); showTab("spacetime"); });
  document.getElementById("filter").addEventListener("input", function (ev) {
    var q = ev.target.value.toLowerCase();
    document.querySelectorAll("#events tbody tr").forEach(function (tr) {
      tr.hidden = q !== "" && tr.textContent.toLowerCase().indexOf(q) < 0;
    });
  });
  window.addEventListener("hashchange", readHash);
  showTab("summary");
  setStep(last);
  readHash();
}());
