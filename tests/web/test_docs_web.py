"""docs/web.md names every page and every API route the server has, and nothing it has not."""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

from deras._web import metrics, pages
from deras._web.app import API_MODULES

WEB_MD = Path(__file__).resolve().parents[2] / "docs" / "web.md"
NOT_PAGES = {"/favicon.ico", "/logout"}  # routes of the pages' router that are no page to visit


def _segments(path: str) -> list[str]:
    """A path's segments, a parameter (``{id}``, ``{key:path}``, ``ID``, ``NAME``) as ``*``."""
    return ["*" if re.fullmatch(r"\{[^}]*\}|[A-Z]+", s) else s for s in path.strip("/").split("/")]


def _matches(documented: str, route: str) -> bool:
    doc, real = _segments(documented), _segments(route)
    return len(doc) == len(real) and all(r in ("*", d) for d, r in zip(doc, real, strict=True))


def _expand(path: str) -> list[str]:
    """``/{schedules,sensors}/x`` is two paths."""
    parts = re.split(r"\{([^{}]*,[^{}]*)\}", path)
    choices = [p.split(",") if i % 2 else [p] for i, p in enumerate(parts)]
    return ["".join(c) for c in product(*choices)]


def _documented_api() -> set[tuple[str, str]]:
    text = WEB_MD.read_text()
    section = text[text.index("## The HTTP API") : text.index("## Security")]
    return {
        (method, path)
        for method, raw in re.findall(r"`(GET|POST) (/[^`\s?]*)", section)
        for path in _expand(raw)
    }


def _documented_pages() -> set[str]:
    text = WEB_MD.read_text()
    table = text[text.index("## Pages") : text.index("Pages update as runs progress")]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| ")]
    return {path for cell in first_cells for path in re.findall(r"`(/[^`?\s]*)`", cell)}


def _api_routes() -> set[tuple[str, str]]:
    return {
        (method, r.path) for m in (*API_MODULES, metrics) for r in m.router.routes for method in r.methods
    }


def test_every_api_route_is_documented_and_every_documented_one_exists() -> None:
    documented, routes = _documented_api(), _api_routes()
    missing = {r for r in routes if not any(m == r[0] and _matches(p, r[1]) for m, p in documented)}
    unknown = {d for d in documented if not any(m == d[0] and _matches(d[1], p) for m, p in routes)}
    assert missing == set(), "routes docs/web.md does not name"
    assert unknown == set(), "docs/web.md names routes the server does not have"


def test_every_page_is_documented_and_every_documented_one_exists() -> None:
    documented = _documented_pages()
    routes = {r.path for r in pages.router.routes if "GET" in r.methods} - NOT_PAGES
    missing = {r for r in routes if not any(_matches(d, r) for d in documented)}
    unknown = {d for d in documented if not any(_matches(d, r) for r in routes)}
    assert missing == set(), "pages docs/web.md does not name"
    assert unknown == set(), "docs/web.md names pages the server does not have"
    assert "/automation/schedules/dag:ID" in documented  # a DAG's own schedule has a page too
