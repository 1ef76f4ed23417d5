"""Who may use the web server: loopback by default, a token elsewhere, logins, CSRF, headers, paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web_server import TOKEN

from deras._core.errors import DerasError
from deras._web.security import AUTH_TOKEN_ENV, LOOPBACK_HOST_NAMES, check_bind, is_loopback, safe_next


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses_need_no_token(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_serving_elsewhere_without_a_token_is_refused_naming_the_variable(host: str) -> None:
    with pytest.raises(DerasError, match=AUTH_TOKEN_ENV):
        check_bind(host, None)
    check_bind(host, TOKEN)


def test_a_short_token_is_refused() -> None:
    with pytest.raises(DerasError, match="at least 16"):
        check_bind("0.0.0.0", "short")


def test_security_headers_on_pages_api_and_errors(client: Any) -> None:
    for path in ("/runs", "/api/v1/openapi.json", "/api/v1/runs/nope/events", "/static/css/deras.css"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
    assert client.get("/api/v1/openapi.json").headers["cache-control"] == "no-store"


def test_pages_carry_no_inline_script(client: Any) -> None:
    for path in ("/", "/runs", "/runs/abc", "/assets", "/dags", "/automation", "/backfills", "/locations"):
        html = client.get(path).text
        for chunk in html.split("<script")[1:]:
            assert chunk.lstrip().startswith('type="module" src="/static/'), path


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2f%2e%2e%2f_web/app.py",
        "/static//etc/passwd",
        "/static/css/../../templates/base.html",
    ],
)
def test_static_files_do_not_escape_their_folder(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "create_app" not in response.text and "root:" not in response.text


def test_mutating_request_from_a_browser_without_the_csrf_token_is_rejected(client: Any) -> None:
    client.get("/runs")  # the page sets the CSRF cookie: from now on this client is a browser
    response = client.post("/api/v1/runs/nope/cancel")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    forged = client.post("/api/v1/runs/nope/cancel", headers={"X-CSRF-Token": "guessed"})
    assert forged.status_code == 403


def test_mutating_request_with_the_pages_csrf_token_passes(client: Any) -> None:
    page = client.get("/runs").text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post("/api/v1/runs/nope/cancel", headers={"X-CSRF-Token": token})
    assert response.status_code == 404  # past the CSRF check: the run does not exist
    assert response.json()["detail"] == "no run with id nope"


def test_a_cross_site_request_without_cookies_still_needs_the_csrf_token(client: Any) -> None:
    response = client.post("/api/v1/runs/nope/cancel", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_a_script_without_cookies_may_post_to_a_tokenless_loopback_server(client: Any) -> None:
    assert client.post("/api/v1/runs/nope/cancel").status_code == 404


def test_csrf_cookie_is_httponly_and_samesite_strict(client: Any) -> None:
    cookie = client.get("/").headers["set-cookie"]
    assert "deras_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_with_a_token_the_api_wants_the_bearer(make_client: Callable[..., Any]) -> None:
    client = make_client(auth_token=TOKEN)
    response = client.get("/api/v1/runs/x/events")
    assert response.status_code == 401
    assert AUTH_TOKEN_ENV in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/metrics").status_code == 401
    assert client.get("/api/v1/openapi.json").status_code == 401
    bad = client.get("/api/v1/runs/x/events", headers={"Authorization": "Bearer wrong-token"})
    assert bad.status_code == 401
    good = client.get("/api/v1/runs/x/events", headers={"Authorization": f"Bearer {TOKEN}"})
    assert good.status_code == 404  # authenticated: the run does not exist


def test_a_bearer_request_needs_no_csrf_token(make_client: Callable[..., Any]) -> None:
    client = make_client(auth_token=TOKEN)
    client.cookies.set("deras_csrf", "x")
    response = client.post("/api/v1/runs/nope/cancel", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404


def test_with_a_token_pages_redirect_to_the_login(make_client: Callable[..., Any]) -> None:
    client = make_client(auth_token=TOKEN)
    response = client.get("/runs?status=failure", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fruns%3Fstatus%3Dfailure"
    assert client.get("/static/css/deras.css").status_code == 200  # the login page needs its style


def _login(client: Any, token: str, next_page: str = "/runs") -> Any:
    form = client.get(f"/login?next={next_page}").text
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post(
        "/login",
        content=f"csrf_token={csrf}&token={token}&next={next_page}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def test_login_sets_an_httponly_strict_session_cookie(make_client: Callable[..., Any]) -> None:
    client = make_client(auth_token=TOKEN)
    response = _login(client, TOKEN)
    assert response.status_code == 303 and response.headers["location"] == "/runs"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("deras_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/runs", follow_redirects=False).status_code == 200
    assert client.get("/api/v1/runs/x/events").status_code == 404  # the page's JS uses the cookie


def test_a_wrong_token_does_not_log_in(make_client: Callable[..., Any]) -> None:
    client = make_client(auth_token=TOKEN)
    response = _login(client, "not-the-token-at-all")
    assert response.headers["location"].startswith("/login?error=wrong")
    assert "deras_session" not in response.headers.get("set-cookie", "")
    assert client.get("/runs", follow_redirects=False).status_code == 303


def test_a_forged_session_cookie_is_refused(make_client: Callable[..., Any]) -> None:
    client = make_client(auth_token=TOKEN)
    client.cookies.set("deras_session", "1700000000.abc.0123")
    assert client.get("/runs", follow_redirects=False).status_code == 303


def test_logged_in_mutations_still_need_the_csrf_token(make_client: Callable[..., Any]) -> None:
    client = make_client(auth_token=TOKEN)
    _login(client, TOKEN)
    assert client.post("/api/v1/runs/nope/cancel").status_code == 403


def test_login_does_not_redirect_off_site() -> None:
    assert safe_next("//evil.example/x") == "/"
    assert safe_next("https://evil.example") == "/"
    assert safe_next("/\\evil.example") == "/"
    assert safe_next("/runs?status=failure") == "/runs?status=failure"


def test_a_loopback_server_refuses_other_host_names(make_client: Callable[..., Any]) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not reach the API."""
    client = make_client(allowed_hosts=LOOPBACK_HOST_NAMES)
    assert client.get("/runs", headers={"Host": "evil.example:3000"}).status_code == 400
    assert client.get("/runs", headers={"Host": "127.0.0.1:3000"}).status_code == 200
    assert client.get("/runs", headers={"Host": "localhost:3000"}).status_code == 200
    assert client.get("/runs", headers={"Host": "[::1]:3000"}).status_code == 200
