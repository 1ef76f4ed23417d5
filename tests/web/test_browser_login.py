"""The login of a server with a token (DERAS_AUTH_TOKEN), in Chromium: pages send you to the
login, a wrong token is refused, the right one sets the session cookie, and then the pages and a
mutating action (with the page's CSRF token) work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from browser import PageErrors, chromium
from web_code import SnapshotLocation, record_runs
from web_server import TOKEN

pytestmark = pytest.mark.slow

# A POST from the page's own script without the X-CSRF-Token header: the status it gets.
POST_WITHOUT_CSRF = """async () => (await fetch("/api/v1/schedules/nightly/stop",
  { method: "POST", credentials: "same-origin" })).status"""


def test_log_in_with_the_token_then_browse_and_start_a_schedule(
    web_instance: Any, live_server: Callable[..., Any]
) -> None:
    location = SnapshotLocation()
    runs = record_runs(web_instance, location)
    url = live_server(location, auth_token=TOKEN).url
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        errors = PageErrors(page)
        page.goto(f"{url}/runs?status=failure")
        page.wait_for_url("**/login?next=%2Fruns%3Fstatus%3Dfailure")
        assert not any(c["name"] == "deras_session" for c in context.cookies())

        page.fill("input[name=token]", "not-the-token-at-all")
        page.click("button:has-text('Log in')")
        page.wait_for_url("**/login?error=wrong**")
        page.wait_for_selector("text=That token is not the server's DERAS_AUTH_TOKEN")
        assert not any(c["name"] == "deras_session" for c in context.cookies())

        page.fill("input[name=token]", TOKEN)
        page.click("button:has-text('Log in')")
        page.wait_for_url("**/runs?status=failure")
        page.wait_for_selector(f"#runs-table >> text={runs['report'][:8]}")  # the API answers the page
        session = next(c for c in context.cookies() if c["name"] == "deras_session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"

        page.goto(f"{url}/automation")
        row = page.locator("#schedules tr", has_text="nightly")
        row.locator("button", has_text="Start").click()
        page.wait_for_selector(".toast >> text=nightly running")
        assert web_instance.store.ticks.get_state("schedule:nightly").status == "running"
        assert page.evaluate(POST_WITHOUT_CSRF) == 403  # the session alone does not mutate
        assert web_instance.store.ticks.get_state("schedule:nightly").status == "running"

        page.click("#logout")
        page.wait_for_url("**/login")
        page.goto(f"{url}/dags")
        page.wait_for_url("**/login?next=%2Fdags")
        context.close()
    # the only failed loads: the login page saying 401 to the wrong token, and the POST without CSRF
    assert [e.rsplit("status of ", 1)[-1] for e in errors.real()] == ["401 (Unauthorized)", "403 (Forbidden)"]
