// Progressive enhancement only: every page works without this file.
// htmx sends this session's CSRF token with each request it makes (workflow/web/deps.py).
document.addEventListener("htmx:configRequest", function (event) {
  var field = document.querySelector("input[name=csrf_token]");
  if (field) {
    event.detail.headers["X-CSRF-Token"] = field.value;
  }
});

// After an agenda item is moved ("Flytta upp"/"Flytta ned", plain forms), the page comes back
// with the address pointing at the button used: focus it, so a keyboard user can move on.
document.addEventListener("DOMContentLoaded", function () {
  var target = window.location.hash.slice(1);
  if (target.indexOf("flytta-") === 0) {
    var button = document.getElementById(target);
    if (button) {
      button.focus();
    }
  }
});
