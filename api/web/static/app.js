// ftthnoc web pages: the print button, and live progress of a provisioning job (polls /api/jobs/{id}).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  // a long school list is shown folded by class; the printout has every class open
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.class-group").forEach(function (d) { d.open = true; });
  });
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-finished") === "true") return;
  var steps = document.getElementById("job-steps"), state = document.getElementById("job-state");
  // the steps' words in the page's language (the API's messages are English, for logs and scripts)
  var labels = {};
  try { labels = JSON.parse(box.getAttribute("data-step-labels") || "{}"); } catch (e) { labels = {}; }
  function show(job) {
    steps.textContent = "";
    job.steps.forEach(function (s) {
      var li = document.createElement("li");
      li.setAttribute("data-step", s.step);
      li.textContent = labels[s.step] || labels.other || "…";
      steps.appendChild(li);
    });
    state.textContent = box.getAttribute("data-label-" + job.state) || job.state;
  }
  function poll() {
    fetch(box.getAttribute("data-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (job) {
        show(job);
        // finished: the page itself shows the outcome (the device's words) and the household's new status
        if (job.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
