// Search as the desk types: fetch the results fragment and swap it in. Without JS the form still works.
(function () {
  document.querySelectorAll("[data-live-search]").forEach(function (input) {
    var target = document.querySelector(input.dataset.target);
    var timer = null;
    var latest = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var ticket = ++latest;
        var url = input.dataset.liveSearch + "?partial=1&q=" + encodeURIComponent(input.value);
        fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (html !== null && ticket === latest) {
              target.innerHTML = html;
              history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
            }
          });
      }, 200);
    });
  });
})();
