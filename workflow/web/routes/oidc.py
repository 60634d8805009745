"""Logging in through the förbund's OpenID provider (authorization code with PKCE).

    GET /logga-in/{forbund}/oidc        to the provider (the button on the login page)
    GET /logga-in/{forbund}/oidc/klar   back from it: state, nonce and ID token checked,
                                        then the session exactly as a password login makes it

Who the claims are is decided in workflow/services/access/oidc.py.
"""

from __future__ import annotations

import logging

import httpx
from authlib.integrations.base_client import OAuthError
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from workflow.services.access.oidc import OidcLoginRefused, login_with_claims
from workflow.services.access.throttle import LoginThrottled
from workflow.web import forms, oidc
from workflow.web.deps import (
    AppDep,
    OptionalUser,
    session_cookie_name,
    set_cookie,
    transport_allows_login,
)
from workflow.web.routes.auth import HTTPS_REQUIRED, login_form, safe_next

log = logging.getLogger("workflow.web.oidc")

router = APIRouter()

FAILED = "Inloggningen via inloggningstjänsten kunde inte slutföras; börja om med knappen nedan."
UNAVAILABLE = (
    "Inloggningstjänsten svarar inte just nu; försök igen om en stund eller logga in med lösenord."
)


def _no_provider(forbund: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"inloggning via {forbund}")


# Every förbund's login is open to anyone (nobody is known yet): not "another förbund's".
PUBLIC = {"x-finsam-public": "the login of a förbund, before anyone is known"}


@router.get("/logga-in/{forbund}/oidc", include_in_schema=False, openapi_extra=PUBLIC)
async def oidc_start(
    request: Request, forbund: str, user: OptionalUser, nasta: str = "/"
) -> Response:
    client = oidc.client_for(request, forbund)
    if client is None:
        raise _no_provider(forbund)
    if user is not None:
        return RedirectResponse(safe_next(nasta), status_code=303)
    if not transport_allows_login(request):
        return login_form(request, nasta=nasta, error=HTTPS_REQUIRED, status_code=403)
    request.scope["session"] = {}
    redirect_uri = str(request.url_for("oidc_callback", forbund=forbund))
    try:
        answer = await client.authorize_redirect(request, redirect_uri)
    except Exception as exc:  # the provider's metadata could not be read: tell, do not crash
        log.warning("OIDC-metadata för %s kunde inte läsas: %s", forbund, exc)
        return login_form(request, nasta=nasta, error=UNAVAILABLE, status_code=503)
    response = RedirectResponse(answer.headers["location"], status_code=303)
    oidc.store_pending(
        request,
        response,
        {"forbund": forbund, "nasta": safe_next(nasta), "session": request.scope["session"]},
    )
    return response


@router.get(
    "/logga-in/{forbund}/oidc/klar",
    include_in_schema=False,
    name="oidc_callback",
    openapi_extra=PUBLIC,
)
async def oidc_callback(request: Request, forbund: str, app: AppDep) -> Response:
    client = oidc.client_for(request, forbund)
    if client is None:
        raise _no_provider(forbund)
    pending = oidc.load_pending(request)
    nasta = safe_next(pending.get("nasta"))
    session = pending.get("session")
    request.scope["session"] = session if isinstance(session, dict) else {}
    if pending.get("forbund") != forbund:
        request.scope["session"] = {}
    try:
        metadata = await client.load_server_metadata()
        if str(metadata.get("issuer", "")).rstrip("/") != app.settings.web.oidc[forbund].issuer:
            raise OAuthError(description="issuer i metadata stämmer inte med inställningen")
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        # A wrong or replayed state, a nonce or signature that does not match, a refusal at
        # the provider: the login stops here and nothing was written.
        log.info("OIDC-inloggning via %s avbröts: %s", forbund, exc.error or exc.description)
        return _refused(request, nasta, FAILED, 400)
    except httpx.HTTPError as exc:
        log.warning("OIDC-inloggning via %s: inloggningstjänsten svarade inte: %s", forbund, exc)
        return _refused(request, nasta, UNAVAILABLE, 503)
    claims = token.get("userinfo")
    if not claims:
        return _refused(request, nasta, FAILED, 400)
    address = request.client.host if request.client else "okänd"
    try:
        session_token = await run_in_threadpool(
            login_with_claims, app, forbund=forbund, claims=dict(claims), address=address
        )
    except LoginThrottled as refused:
        return _refused(request, nasta, forms.sentence(refused), 429)
    except OidcLoginRefused as refused:
        return _refused(request, nasta, forms.sentence(refused), 401)
    response = RedirectResponse(nasta, status_code=303)
    max_age = app.settings.web.session_absolute_minutes * 60
    set_cookie(request, response, session_cookie_name(request), session_token, max_age=max_age)
    oidc.forget_pending(request, response)
    return response


def _refused(request: Request, nasta: str, error: str, status_code: int) -> HTMLResponse:
    response = login_form(request, nasta=nasta, error=error, status_code=status_code)
    oidc.forget_pending(request, response)
    return response
