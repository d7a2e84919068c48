"""django-csp's middleware, with the Content-Security-Policy header built once per process.

django-csp builds the header from settings for every response: about 53 of the 357 us of CPU
/health/ took, in process with production settings (the template's docs/benchmarks-notes.md,
"Third pass"). This project's policy has no nonce and no per-view changes, so the header is
the same every time. Any response that asks for something else goes through django-csp
unchanged: a template used `request.csp_nonce`, a view used @csp, @csp_update, @csp_replace or
@csp_exempt, or settings add a report-only policy, excluded URL prefixes or DEBUG.
https://django-csp.readthedocs.io/en/latest/configuration.html
"""

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings

# The attributes django-csp's decorators set on a response.
PER_RESPONSE = frozenset(
    f"_csp_{name}{suffix}"
    for name in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


class CSPMiddleware(LibraryCSPMiddleware):
    def __init__(self, get_response):
        super().__init__(get_response)
        self.policy = self.header = None

    def process_response(self, request, response):
        if not self.same_for_all(request, response):
            return super().process_response(request, response)
        if HEADER not in response:
            response[HEADER] = self.header
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    def same_for_all(self, request, response):
        """Whether this response gets the settings' policy as it is (then self.header is it)."""
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        if policy is not self.policy:  # first response, or settings changed (tests)
            self.policy, self.header = policy, build_policy()
        return (
            self.header
            and not settings.DEBUG
            and not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            and not policy.get("EXCLUDE_URL_PREFIXES")
            and getattr(request, "_csp_nonce", None) is None
            and PER_RESPONSE.isdisjoint(vars(response))
        )
