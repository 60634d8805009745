"""The pages, one module per domain; each exposes `router` and is listed in app.ROUTERS.

A route with path parameters must say how the generated security tests find a value of each
förbund for them: see workflow/web/samples.py (by the parameter's name, or
`openapi_extra={"x-finsam-samples": {...}}` on the route). Every POST route depends on
`verify_csrf` (workflow/web/deps.py); the tests check both for every route in ROUTERS.
"""
