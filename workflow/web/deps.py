"""What routes depend on: the App, the person logged in, and the CSRF check.

    @router.get("/arenden")
    def cases_page(request: Request, app: AppDep, user: CurrentUser) -> HTMLResponse: ...

    @router.post("/arenden/{ref}/steg", dependencies=[Depends(verify_csrf)])
    def take_step(...): ...

A page route that needs a login takes `CurrentUser`: without one the browser is sent to
/logga-in and back afterwards. Every POST route takes `verify_csrf`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from workflow.app import App
from workflow.services.access import sessions
from workflow.services.access.sessions import Principal

SESSION_COOKIE = "__Host-finsam_session"
# Before login there is no session: the login form's CSRF token comes from this cookie.
ANONYMOUS_COOKIE = "__Host-finsam_csrf"
# Without Secure cookies (web.secure_cookies = false) the __Host- prefix is not allowed.
PLAIN_SESSION_COOKIE = "finsam_session"
PLAIN_ANONYMOUS_COOKIE = "finsam_csrf"

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def get_app(request: Request) -> App:
    app: App = request.app.state.finsam
    return app


AppDep = Annotated[App, Depends(get_app)]


class LoginRequired(Exception):
    """No live session: a page redirects to /logga-in, the API answers 401."""


def secure_cookies(request: Request) -> bool:
    return bool(get_app(request).settings.web.secure_cookies)


def session_cookie_name(request: Request) -> str:
    return SESSION_COOKIE if secure_cookies(request) else PLAIN_SESSION_COOKIE


def anonymous_cookie_name(request: Request) -> str:
    return ANONYMOUS_COOKIE if secure_cookies(request) else PLAIN_ANONYMOUS_COOKIE


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_allows_login(request: Request) -> bool:
    """Secure cookies need https; plain http is allowed on loopback only (the demo)."""
    if not secure_cookies(request) or request.url.scheme == "https":
        return True
    client = request.client.host if request.client else None
    return is_loopback(client) and is_loopback(request.url.hostname)


def session_token(request: Request) -> str | None:
    return request.cookies.get(session_cookie_name(request))


def principal_or_none(request: Request) -> Principal | None:
    """The person logged in, looked up once per request."""
    if not hasattr(request.state, "principal"):
        request.state.principal = sessions.lookup_session(get_app(request), session_token(request))
    principal: Principal | None = request.state.principal
    return principal


def require_login(request: Request) -> Principal:
    principal = principal_or_none(request)
    if principal is None:
        raise LoginRequired()
    return principal


CurrentUser = Annotated[Principal, Depends(require_login)]
OptionalUser = Annotated[Principal | None, Depends(principal_or_none)]


# -- CSRF -----------------------------------------------------------------------------------


def _derive(seed: str) -> str:
    # The token is bound to the session (or the anonymous cookie) without being stored: only
    # a page of ours, read by the browser holding the cookie, can know it.
    return hashlib.sha256(f"finsam-csrf:{seed}".encode()).hexdigest()


def csrf_token(request: Request) -> str:
    """This request's CSRF token: from the session when logged in, else from the anonymous
    cookie (set on the response when new, by `set_pending_cookies`)."""
    cached: str | None = getattr(request.state, "csrf_token", None)
    if cached is not None:
        return cached
    if principal_or_none(request) is not None:
        seed = session_token(request)
    else:
        seed = request.cookies.get(anonymous_cookie_name(request))
        if not seed:
            seed = secrets.token_urlsafe(32)
            request.state.new_anonymous_cookie = seed
    assert seed is not None
    request.state.csrf_token = _derive(seed)
    return str(request.state.csrf_token)


def set_pending_cookies(request: Request, response: Response) -> None:
    seed = getattr(request.state, "new_anonymous_cookie", None)
    if seed:
        set_cookie(request, response, anonymous_cookie_name(request), seed, max_age=None)


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Give the browser its new session (after any kind of login)."""
    max_age = get_app(request).settings.web.session_absolute_minutes * 60
    set_cookie(request, response, session_cookie_name(request), token, max_age=max_age)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def posted_form(request: Request) -> FormData:
    """The request's form, parsed once (Starlette keeps it on the request), empty when the body
    is not a form. Reading the body is the only awaiting a page route needs, so the routes
    themselves stay plain `def`: FastAPI runs them, and their database calls, in its thread
    pool instead of on the event loop, where one slow query would stall every request."""
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        return await request.form()
    return FormData()


FormDep = Annotated[FormData, Depends(posted_form)]


def verify_csrf(request: Request, form: FormDep) -> None:
    """A state-changing request must carry this session's token (form field or header);
    a cross-site POST cannot know it and gets 403. Plain `def`: finding the session reads
    the database, which must not happen on the event loop."""
    given = request.headers.get(CSRF_HEADER)
    if not given:
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    expected = csrf_token(request)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="csrf")


CsrfChecked = Depends(verify_csrf)
