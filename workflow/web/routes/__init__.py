"""The pages, one module per domain; each exposes `router` and is listed in app.ROUTERS.

Sample parameters for the cross-förbund matrix (tests/test_web_security.py): a route whose
path has parameters says, in `openapi_extra={"x-finsam-samples": {...}}` or by a function
registered with `workflow.web.samples.sample`, how to find a value of each förbund.
"""
