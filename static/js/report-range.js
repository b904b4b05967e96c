// A report's range form (#report-range): typing a day switches the period to "custom", and a preset is sent
// without the two days (they would only be ignored), so the URL of a preset reads ?period=last_month.
(function () {
  "use strict";
  var form = document.getElementById("report-range");
  if (!form) { return; }
  var preset = form.querySelector("select[name=period]");
  var days = form.querySelectorAll("input[name=start], input[name=end]");
  days.forEach(function (input) {
    input.addEventListener("change", function () { preset.value = "custom"; });
  });
  form.addEventListener("submit", function () {
    days.forEach(function (input) { input.disabled = preset.value !== "custom"; });
  });
  // Back from the next page (the browser's cache keeps the form as it was sent): the days are usable again.
  window.addEventListener("pageshow", function () {
    days.forEach(function (input) { input.disabled = false; });
  });
})();
