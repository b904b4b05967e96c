// A button with data-print opens the browser's print dialog (no inline onclick: the Content-Security-Policy
// allows only the app's own script files).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
