"""Headless Chromium against the Procfile web command with production settings: pages render
with their CSS, and the console shows no CSP violation or failed resource."""

import os
import shutil

import pytest

from railway import RAILWAY_DOMAIN
from services import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.server]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Recorded from inside each page (init scripts are not subject to the page's CSP).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""
STYLES_LOADED = """() => {
  const sheets = [...document.styleSheets];
  return sheets.length > 0 && sheets.every((sheet) => sheet.cssRules.length > 0);
}"""


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        unavailable(f"Chromium not found at {CHROMIUM} (Debian package: chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-gpu", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture(params=["5.2", "6.1"], ids=lambda v: f"django{v}")
def site(request, server_factory, variant):
    """Production settings; the browser reaches the server directly, so it sends the
    X-Forwarded-Proto that Railway's edge would add, and 127.0.0.1 is an allowed host.
    The API docs are public here so the browser can open them without signing in.
    Django 6.1 uses its own CSP middleware (5.2 uses django-csp): both must pass."""
    bake = None if request.param == "5.2" else variant(django_version=request.param)
    return server_factory(
        f"browser{request.param}", bake, ALLOWED_HOSTS=f"{RAILWAY_DOMAIN},127.0.0.1", API_DOCS="public"
    )


class Visit:
    def __init__(self, browser, base_url):
        self.context = browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.problems = []
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.problems.append(f"console {m.type}: {m.text}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))

    def open(self, path, expected_status=200):
        self.problems.clear()
        response = self.page.goto(self.base_url + path, wait_until="networkidle")
        assert response.status == expected_status, path
        violations = self.page.evaluate("window.__violations")
        return response, violations

    def check(self, path, expected_status=200):
        _, violations = self.open(path, expected_status)
        assert violations == [], (path, violations)
        assert self.page.evaluate(STYLES_LOADED), f"{path}: a stylesheet did not load"
        # Only the page itself may answer an error status (the 404 page); its resources may not.
        expected = [p for p in self.problems if "status of 404" in p and expected_status == 404][:1]
        assert [p for p in self.problems if p not in expected] == [], (path, self.problems)


def test_pages_render_with_css_and_no_csp_violation(browser, site, tmp_path):
    visit = Visit(browser, f"http://127.0.0.1:{site.port}")
    visit.check("/")
    assert visit.page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    visit.check("/no-such-page/", expected_status=404)
    assert visit.page.locator("h1").inner_text() == "Page not found"
    visit.check("/admin/login/")
    visit.page.screenshot(path=str(tmp_path / "admin-login.png"))
    visit.check("/api/docs/")
    visit.page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
    assert visit.page.locator(".opblock-summary-path", has_text="/api/auth/login/").count() == 1
    assert visit.page.evaluate("window.__violations") == []
    assert visit.problems == []
    visit.page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
    print("screenshots:", tmp_path)
