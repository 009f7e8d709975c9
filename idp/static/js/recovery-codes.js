// Recovery codes: "Copy codes" and "Print" (the file download is a plain form).
// Loaded as a file of its own: the Content-Security-Policy allows no inline script.
"use strict";

(function () {
  function codesOf(sheet) {
    return Array.prototype.map.call(
      sheet.querySelectorAll(".recovery-code"),
      function (node) { return node.textContent.trim(); }
    );
  }

  function say(sheet, message) {
    var status = sheet.querySelector("[data-copy-status]");
    if (status) { status.textContent = message; }
  }

  function copy(sheet) {
    var text = codesOf(sheet).join("\n") + "\n";
    if (!navigator.clipboard || !navigator.clipboard.writeText) {
      say(sheet, sheet.dataset.copyFailed);
      return;
    }
    navigator.clipboard.writeText(text).then(
      function () { say(sheet, sheet.dataset.copied); },
      function () { say(sheet, sheet.dataset.copyFailed); }
    );
  }

  document.querySelectorAll("[data-recovery-codes]").forEach(function (sheet) {
    var copyButton = sheet.querySelector('[data-action="copy"]');
    var printButton = sheet.querySelector('[data-action="print"]');
    if (copyButton) {
      copyButton.hidden = false;
      copyButton.addEventListener("click", function () { copy(sheet); });
    }
    if (printButton && window.print) {
      printButton.hidden = false;
      printButton.addEventListener("click", function () { window.print(); });
    }
  });
})();
