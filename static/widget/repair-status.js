/* The repair-status widget for a shop's own website. Put on any page:
 *   <div data-repair-status data-crm="https://crm.your-shop.example" data-lang="uk"></div>
 *   <script src="https://crm.your-shop.example/static/widget/repair-status.js" defer></script>
 * The customer types the order number and the last four digits of their phone and sees the status and the link
 * to the repair's page. The CRM answers only pages of the websites listed on its API tokens page. */
(function () {
  "use strict";

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function field(form, id, label, attributes) {
    var wrapper = element("p");
    wrapper.appendChild(element("label", { "for": id }, label));
    wrapper.appendChild(element("br"));
    var input = element("input", Object.assign({ id: id, name: id.split("-").pop(), required: "" }, attributes));
    wrapper.appendChild(input);
    form.appendChild(wrapper);
    return input;
  }

  function mount(root, index) {
    var base = (root.getAttribute("data-crm") || "").replace(/\/+$/, "");
    var lang = root.getAttribute("data-lang") || document.documentElement.lang || "";
    fetch(base + "/api/widget/labels?lang=" + encodeURIComponent(lang)).then(function (r) { return r.json(); })
      .then(function (words) {
        var form = element("form", { "class": "repair-status-form" });
        form.appendChild(element("h3", {}, words.title));
        var number = field(form, "repair-status-" + index + "-number", words.number,
                           { maxlength: "32", autocomplete: "off" });
        var last4 = field(form, "repair-status-" + index + "-last4", words.last4,
                          { inputmode: "numeric", pattern: "[0-9]{4}", maxlength: "4", autocomplete: "off" });
        form.appendChild(element("button", { type: "submit" }, words.submit));
        var answer = element("p", { "class": "repair-status-answer", role: "status", "aria-live": "polite" });
        form.appendChild(answer);
        root.appendChild(form);
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          var body = new URLSearchParams({ number: number.value, last4: last4.value, lang: lang });
          fetch(base + "/api/widget/status", { method: "POST", body: body })
            .then(function (r) { return r.json(); })
            .then(function (result) {
              answer.textContent = result.message || "";
              if (result.found && result.tracking_url) {
                answer.appendChild(document.createTextNode(" "));
                answer.appendChild(element("a", { href: result.tracking_url, rel: "noopener" }, words.open));
              }
            });
        });
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-repair-status]"), mount);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
