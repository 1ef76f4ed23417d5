"""Who may use the web server, and what every response carries.

- Binding to anything but loopback needs ``DERAS_AUTH_TOKEN`` (:func:`check_bind`).
- With a token, the API wants ``Authorization: Bearer TOKEN``; the UI a login that sets an
  HttpOnly, SameSite=Strict session cookie (signed with a key derived from the token, so a new
  token ends every session).
- Every mutating request from a browser carries the CSRF token of its page in ``X-CSRF-Token``,
  compared with the HttpOnly ``deras_csrf`` cookie (double submit). A request with a valid
  bearer token is not a browser's, and neither is one with no cookie, ``Origin`` or
  ``Sec-Fetch-Site`` on a tokenless loopback server (curl): browsers send ``Origin`` on every
  cross-site POST, so a forged form or fetch cannot pass as one.
- On a tokenless loopback server only loopback ``Host`` names are served (DNS rebinding).
- Security headers on every response: a CSP without inline script, nosniff, no framing.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from .._core.errors import DerasError

AUTH_TOKEN_ENV = "DERAS_AUTH_TOKEN"
SESSION_COOKIE = "deras_session"
CSRF_COOKIE = "deras_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 7 * 24 * 3600
LOOPBACK_HOST_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PUBLIC_PREFIXES = ("/static/", "/login")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address the server binds to) is reachable from this machine only."""
    if host.strip("[]") in LOOPBACK_HOST_NAMES or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth_token: str | None) -> None:
    """Refuse to serve a non-loopback address without ``DERAS_AUTH_TOKEN``.

    >>> check_bind("127.0.0.1", None)
    """
    if auth_token is not None and len(auth_token) < 16:
        raise DerasError(
            f"{AUTH_TOKEN_ENV} is {len(auth_token)} characters long: use at least 16 random characters, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if auth_token or is_loopback(host):
        return
    raise DerasError(
        f"refusing to serve on {host} without {AUTH_TOKEN_ENV}: anyone who reaches it could launch "
        f"and cancel runs. Set {AUTH_TOKEN_ENV} to a long random secret "
        "(python -c 'import secrets; print(secrets.token_urlsafe(32))'), or serve on 127.0.0.1"
    )


@dataclass(frozen=True)
class WebSecurity:
    """The server's security settings: its token (None: open, loopback only) and allowed hosts."""

    auth_token: str | None = None
    allowed_hosts: Collection[str] | None = None  # None: any Host header
    secure_cookies: bool = False

    @property
    def _key(self) -> bytes:
        return hashlib.sha256(b"deras-session:" + (self.auth_token or "").encode()).digest()

    def token_matches(self, candidate: str) -> bool:
        return self.auth_token is not None and hmac.compare_digest(
            candidate.encode(), self.auth_token.encode()
        )

    def new_session(self, now: float | None = None) -> str:
        issued = str(int(now if now is not None else time.time()))
        body = f"{issued}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._sign(body)}"

    def session_valid(self, value: str | None, now: float | None = None) -> bool:
        if self.auth_token is None or not value or value.count(".") != 2:
            return False
        body, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._sign(body)):
            return False
        issued = body.split(".", 1)[0]
        return issued.isdigit() and (now or time.time()) - int(issued) < SESSION_SECONDS

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def cookie(self, name: str, value: str, *, max_age: int | None = None) -> str:
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure_cookies:
            parts.append("Secure")
        return "; ".join(parts)


class SecurityMiddleware:
    """ASGI middleware: host check, authentication, CSRF, security headers (pure ASGI, so the
    SSE stream passes through unbuffered)."""

    def __init__(self, app: ASGIApp, security: WebSecurity) -> None:
        self.app = app
        self.security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = _cookies(headers.get("cookie", ""))
        path: str = scope["path"]
        sec = self.security
        extra: list[tuple[bytes, bytes]] = list(_HEADERS)
        api = path.startswith("/api/") or path == "/metrics"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if api and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))  # unless it says (the lineage's ETag)
                message["headers"] = [*headers, *extra]
            await send(message)

        if sec.allowed_hosts is not None:
            host = _host_name(headers.get("host", ""))
            if host not in sec.allowed_hosts:
                await _respond(send_with_headers, 400, {"detail": f"unknown Host {host!r}"})
                return

        bearer = _bearer(headers.get("authorization", ""))
        via_bearer = bearer is not None and sec.token_matches(bearer)
        if bearer is not None and not via_bearer:
            await _respond(send_with_headers, 401, {"detail": "bad bearer token"}, [_WWW_AUTH])
            return
        authenticated = sec.auth_token is None or via_bearer or sec.session_valid(cookies.get(SESSION_COOKIE))
        public = path.startswith(_PUBLIC_PREFIXES)
        if not authenticated and not public:
            if path.startswith("/api/") or path == "/metrics":
                detail = f"authentication required: send Authorization: Bearer ${AUTH_TOKEN_ENV}"
                await _respond(send_with_headers, 401, {"detail": detail}, [_WWW_AUTH])
            else:
                target = path + (
                    ("?" + scope["query_string"].decode("latin-1")) if scope["query_string"] else ""
                )
                await _redirect(send_with_headers, "/login?next=" + quote(target, safe=""))
            return

        csrf = cookies.get(CSRF_COOKIE)
        if scope["method"] not in _SAFE_METHODS and not via_bearer and path != "/login":
            browser = bool(cookies) or "origin" in headers or "sec-fetch-site" in headers
            if sec.auth_token is not None or browser:
                sent = headers.get(CSRF_HEADER, "")
                if not csrf or not sent or not hmac.compare_digest(sent, csrf):
                    detail = "CSRF check failed: send the page's token in X-CSRF-Token (reload the page)"
                    await _respond(send_with_headers, 403, {"detail": detail})
                    return
        if not csrf and not api:  # pages hand out the token; API clients never get a cookie
            csrf = secrets.token_urlsafe(24)
            extra.append((b"set-cookie", sec.cookie(CSRF_COOKIE, csrf).encode()))
        scope.setdefault("state", {})
        scope["state"]["csrf_token"] = csrf or ""
        scope["state"]["authenticated_by"] = "bearer" if via_bearer else "session" if sec.auth_token else None
        await self.app(scope, receive, send_with_headers)


_WWW_AUTH = (b"www-authenticate", b'Bearer realm="deras"')


def _host_name(header: str) -> str:
    """The name of a Host header without its port (``[::1]:3000`` -> ``[::1]``)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0]


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header counts as none
        return {}
    return {k: m.value for k, m in jar.items()}


async def _respond(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*start, *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
