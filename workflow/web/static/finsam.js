// Progressive enhancement only: every page works without this file.
// htmx sends this session's CSRF token with each request it makes (workflow/web/deps.py).
document.addEventListener("htmx:configRequest", function (event) {
  var field = document.querySelector("input[name=csrf_token]");
  if (field) {
    event.detail.headers["X-CSRF-Token"] = field.value;
  }
});
