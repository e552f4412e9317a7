// Keyboard shortcuts on the review page: a accept, r reject, s skip.
// Buttons and links carry data-key; a key typed into a field is left alone.
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var tag = (event.target && event.target.tagName) || "";
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
  var el = document.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
  if (!el) return;
  event.preventDefault();
  el.click();
});
