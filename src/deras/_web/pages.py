"""The pages: server-rendered shells whose JS modules fetch the API and listen to the stream.

Every page gets the CSRF token in ``<meta name="csrf-token">`` (the JS sends it back in
``X-CSRF-Token``). Values reach templates only through Jinja's autoescaping and ``data-``
attributes; no page carries inline script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from .security import CSRF_COOKIE, SESSION_COOKIE, SESSION_SECONDS, safe_next
from .state import WebState, web_state

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.autoescape = True

NAV = [
    ("overview", "/", "Overview"),
    ("assets", "/assets", "Assets"),
    ("runs", "/runs", "Runs"),
    ("dags", "/dags", "DAGs"),
    ("automation", "/automation", "Schedules & sensors"),
    ("backfills", "/backfills", "Backfills"),
    ("locations", "/locations", "Code"),
]


def _page(request: Request, template: str, nav: str, title: str, **data: Any) -> HTMLResponse:
    state: WebState = request.app.state.web
    context = {
        "nav": NAV,
        "active": nav,
        "title": title,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "logged_in": state.security.auth_token is not None,
        "data": data,
    }
    return templates.TemplateResponse(request, template, context)


# The pages of the top bar: a template and a title each; the JS module the template names
# fetches the rest.
_TOP_PAGES = [
    ("/", "overview.html", "overview", "Overview"),
    ("/assets", "assets.html", "assets", "Assets"),
    ("/runs", "runs.html", "runs", "Runs"),
    ("/dags", "dags.html", "dags", "DAGs"),
    ("/automation", "automation.html", "automation", "Schedules & sensors"),
    ("/backfills", "backfills.html", "backfills", "Backfills"),
    ("/locations", "locations.html", "locations", "Code locations"),
]


def _top_page(template: str, nav: str, title: str) -> Any:
    def render(request: Request) -> HTMLResponse:
        return _page(request, template, nav, title)

    return render


for _path, _template, _nav, _title in _TOP_PAGES:
    router.add_api_route(
        _path, _top_page(_template, _nav, _title), methods=["GET"], response_class=HTMLResponse, name=_nav
    )


@router.get("/assets/{key:path}", response_class=HTMLResponse)
def asset_page(request: Request, key: str) -> HTMLResponse:
    return _page(request, "asset.html", "assets", key, key=key)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str) -> HTMLResponse:
    return _page(request, "run.html", "runs", f"Run {run_id[:8]}", run_id=run_id)


@router.get("/dags/{dag_id}", response_class=HTMLResponse)
def dag_page(request: Request, dag_id: str) -> HTMLResponse:
    return _page(request, "dag.html", "dags", dag_id, dag_id=dag_id)


@router.get("/automation/{kind}/{name}", response_class=HTMLResponse)
def instigator_page(request: Request, kind: str, name: str) -> HTMLResponse:
    return _page(request, "instigator.html", "automation", name, kind=kind, name=name)


@router.get("/backfills/{backfill_id}", response_class=HTMLResponse)
def backfill_page(request: Request, backfill_id: str) -> HTMLResponse:
    return _page(request, "backfill.html", "backfills", f"Backfill {backfill_id}", backfill_id=backfill_id)


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=308)


# -- login (only with DERAS_AUTH_TOKEN) -------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", error: str = "") -> Response:
    state: WebState = request.app.state.web
    if state.security.auth_token is None:
        return RedirectResponse(safe_next(next), status_code=303)
    context: dict[str, Any] = {
        "nav": [],
        "active": "",
        "title": "Log in",
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "next": safe_next(next),
        "error": error,
        "logged_in": False,
        "data": {},
    }
    return templates.TemplateResponse(request, "login.html", context, status_code=401 if error else 200)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, state: WebState = Depends(web_state)) -> Response:
    """Check the token typed in the form (and the form's CSRF field); set the session cookie."""
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    target = safe_next(form.get("next"))
    security = state.security
    if security.auth_token is None:
        return RedirectResponse(target, status_code=303)
    csrf_cookie = request.cookies.get(CSRF_COOKIE, "")
    if not csrf_cookie or form.get("csrf_token") != csrf_cookie:
        return RedirectResponse("/login?error=expired&next=" + quote(target, safe=""), status_code=303)
    if not security.token_matches(form.get("token", "")):
        return RedirectResponse("/login?error=wrong&next=" + quote(target, safe=""), status_code=303)
    response = RedirectResponse(target, status_code=303)
    cookie = security.cookie(SESSION_COOKIE, security.new_session(), max_age=SESSION_SECONDS)
    response.headers.append("set-cookie", cookie)
    return response


@router.post("/logout")
def logout(state: WebState = Depends(web_state)) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.headers.append("set-cookie", state.security.cookie(SESSION_COOKIE, "", max_age=0))
    return response
