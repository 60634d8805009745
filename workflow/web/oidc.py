"""authlib's Starlette client for each förbund's OpenID provider, and the pending-login cookie.

authlib keeps what the callback must check (state, nonce, PKCE code_verifier, redirect_uri)
in `request.session`. We have no cookie session middleware (our sessions are rows in the
database, made only at login), so the route hands authlib a plain dict loaded from one
short-lived HttpOnly cookie, SameSite=Lax, and writes it back: the state never touches the
database, a GET changes nothing server side, and every `finsam serve` process can finish a
login another one started. The cookie holds only this browser's own secrets.
"""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib 1.9 asks for httpx2 when its httpx client is imported; httpx works. (Its own
    # "always" filter would print this on every `finsam serve`, so it is silenced here only.)
    warnings.filterwarnings(
        "ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning
    )
    from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import Request
from starlette.responses import Response

from workflow.settings import OidcSettings
from workflow.web.deps import get_app, secure_cookies, set_cookie

PENDING_COOKIE = "__Host-finsam_oidc"
PLAIN_PENDING_COOKIE = "finsam_oidc"
# A login must come back from the provider within this long.
PENDING_SECONDS = 10 * 60
_MAX_COOKIE = 3500


def client_for(request: Request, forbund: str) -> StarletteOAuth2App | None:
    """The authlib client for the förbund's provider (made once per web application)."""
    provider = get_app(request).settings.web.oidc.get(forbund)
    if provider is None:
        return None
    state = request.app.state
    if not hasattr(state, "oidc_registry"):
        state.oidc_registry = OAuth()
    registry: OAuth = state.oidc_registry
    client = registry.create_client(forbund)
    if client is None:
        client = registry.register(forbund, **_client_kwargs(provider))
    return client  # type: ignore[no-any-return]


def _client_kwargs(provider: OidcSettings) -> dict[str, Any]:
    secret = provider.client_secret.get_secret_value() if provider.client_secret else None
    client_kwargs: dict[str, Any] = {
        "scope": " ".join(provider.scopes),
        "code_challenge_method": "S256",
        "timeout": 10.0,
    }
    if secret is None:
        client_kwargs["token_endpoint_auth_method"] = "none"
    return {
        "client_id": provider.client_id,
        "client_secret": secret,
        "server_metadata_url": f"{provider.issuer}/.well-known/openid-configuration",
        "client_kwargs": client_kwargs,
    }


def pending_cookie_name(request: Request) -> str:
    return PENDING_COOKIE if secure_cookies(request) else PLAIN_PENDING_COOKIE


def load_pending(request: Request) -> dict[str, Any]:
    """What the start of the login left for the callback; empty when missing or unreadable."""
    raw = request.cookies.get(pending_cookie_name(request))
    if not raw or len(raw) > _MAX_COOKIE:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def store_pending(request: Request, response: Response, data: dict[str, Any]) -> None:
    encoded = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    set_cookie(
        request,
        response,
        pending_cookie_name(request),
        encoded.decode("ascii"),
        max_age=PENDING_SECONDS,
    )


def forget_pending(request: Request, response: Response) -> None:
    response.delete_cookie(
        pending_cookie_name(request),
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )
