"""The response-header rules of MDN's HTTP Observatory grader (mdn/mdn-http-observatory),
the part that applies to one HTTPS response and its plain-HTTP redirect.

Start at 100; apply penalties; bonuses count only when the score after penalties is >= 90.
A+ is 100 or more. Cookie, SRI and preload-list bonuses are not computed (no cookies are set
on the scanned pages and the preload list is outside this machine), so the score is a floor.
"""


def _directives(csp):
    directives = {}
    for part in csp.split(";"):
        tokens = part.strip().split()
        if tokens:
            directives[tokens[0].lower()] = [token.lower() for token in tokens[1:]]
    return directives


def score(headers, redirect_status=None, redirect_location=""):
    """headers: the HTTPS response's headers (case-insensitive mapping). Returns (score, notes)."""
    penalties, bonuses, notes = 0, 0, []

    csp = headers.get("Content-Security-Policy")
    if not csp:
        penalties += 25
        notes.append("no CSP -25")
    else:
        directives = _directives(csp)
        script = directives.get("script-src", directives.get("default-src", []))
        default = directives.get("default-src", [])
        if "'unsafe-inline'" in script or "data:" in script:
            penalties += 20
            notes.append("unsafe script-src -20")
        if "'unsafe-eval'" in script:
            penalties += 10
            notes.append("unsafe-eval -10")
        unsafe = any("'unsafe-" in value for values in directives.values() for value in values)
        if not unsafe and default == ["'none'"]:
            bonuses += 10
            notes.append("CSP default-src 'none' +10")
        elif not unsafe:
            bonuses += 5
            notes.append("CSP without unsafe +5")

    if redirect_status is not None:
        if redirect_status not in (301, 302, 307, 308) or not redirect_location.startswith("https://"):
            penalties += 20
            notes.append("no HTTPS redirect -20")

    hsts = headers.get("Strict-Transport-Security", "")
    max_age = 0
    for part in hsts.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "max-age" and value.isdigit():
            max_age = int(value)
    if not hsts:
        penalties += 20
        notes.append("no HSTS -20")
    elif max_age < 15768000:
        penalties += 10
        notes.append("HSTS under 6 months -10")

    xfo = headers.get("X-Frame-Options", "").upper()
    frame_ancestors = csp and "frame-ancestors" in _directives(csp)
    if xfo == "DENY" or frame_ancestors:
        bonuses += 5
        notes.append("XFO DENY / frame-ancestors +5")
    elif xfo != "SAMEORIGIN":
        penalties += 20
        notes.append("no X-Frame-Options -20")

    if headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        penalties += 5
        notes.append("no nosniff -5")

    referrer = headers.get("Referrer-Policy", "").lower().split(",")[-1].strip()
    if referrer in {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}:
        bonuses += 5
        notes.append("strict Referrer-Policy +5")

    if headers.get("Cross-Origin-Resource-Policy", "").lower() == "same-origin":
        bonuses += 10
        notes.append("CORP same-origin +10")

    if headers.get("Access-Control-Allow-Origin") == "*" and headers.get(
        "Access-Control-Allow-Credentials", ""
    ).lower() == "true":
        penalties += 50
        notes.append("CORS with credentials -50")

    total = 100 - penalties
    if total >= 90:
        total += bonuses
    return total, notes
