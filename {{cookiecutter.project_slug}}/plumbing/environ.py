"""The WSGI environ of a granian RSGI request, built as strictly as gunicorn or nginx would.

plumbing/bodies.py serves Django from granian's RSGI interface, so this module is the request's
HTTP boundary: what Django, the rate limits and the logs believe about a request comes from
here. granian (hyper) parses the request line and headers; what it lets through that a WSGI
server must not is handled here:
- header names with "_" are dropped, as gunicorn, nginx and Django's runserver do: both
  `X_Real_IP` and `X-Real-IP` would become HTTP_X_REAL_IP, so a client could add its own
  address beside the one the edge sets and slip past every per-address limit;
- the client-address header (settings.CLIENT_IP_HEADER) sent twice is refused (400);
- headers over `header_limit` bytes in all are refused (431): granian's own cap on its read
  buffer (server.py sets it to the same number) lets some larger ones through;
- a header value that is not ASCII is refused (400): granian leaves such values out, which
  would turn a broken Authorization header into an anonymous request;
- Transfer-Encoding other than exactly "chunked", or beside Content-Length, is refused (400),
  as gunicorn does: granian accepts both, and a proxy in front may have framed it otherwise;
- CONNECT (405) and a target that is not a path (400) never reach the URL resolver;
- a query with raw bytes outside ASCII is refused (400), as gunicorn does (RFC 3986: a client
  percent-encodes them); QUERY_STRING is the query as sent, ASCII, as PEP 3333 asks.
A request with a body for a host Django would refuse is refused before its body is read.

No library builds a WSGI environ from RSGI; gunicorn's and Django's own rules are the model.
"""

import io
import sys

from django.conf import settings
from django.http.request import split_domain_port, validate_host

SPECIAL_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
# Refusals, by the name plumbing.middleware.RequestBodyLimitMiddleware answers them under.
BAD_REQUEST, NOT_ALLOWED, BAD_HOST = "bad_request", "not_allowed", "bad_host"
HEADERS_TOO_LARGE = "headers_too_large"


def split_address(address):
    """("host", "port") from granian's "host:port" or "[v6 host]:port"."""
    host, _, port = (address or "").rpartition(":")
    return host.strip("[]"), port


def wsgi_environ(scope, header_limit):
    """(environ, refusal): the PEP 3333 environ of an RSGI request scope (its body comes later),
    and the name of the reason to refuse it, or None."""
    server_name, server_port = split_address(scope.server)
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # granian gives path and query as text; WSGI wants their bytes as latin-1.
        "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": split_address(scope.client)[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    headers = scope.headers
    items = headers.items()
    size = 4 * len(items)  # ": " and CRLF
    for name, value in items:
        size += len(name) + len(value)
        if "_" in name:
            continue
        key = SPECIAL_HEADERS.get(name) or "HTTP_" + name.upper().replace("-", "_")
        if key in environ:  # a repeated header: one value, as RFC 9110 combines them
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    if size > header_limit:
        return environ, HEADERS_TOO_LARGE
    return environ, refusal(environ, headers, {name for name, _ in items})


def refusal(environ, headers, names):
    """Why the request must not reach a view (a refusal name), or None."""
    if environ["REQUEST_METHOD"] == "CONNECT":
        return NOT_ALLOWED
    if not environ["PATH_INFO"].startswith("/") or not environ["QUERY_STRING"].isascii():
        return BAD_REQUEST
    if len(names) != len(headers):  # items() leaves out values that are not visible ASCII
        return BAD_REQUEST
    if "transfer-encoding" in names and (
        "content-length" in names
        or ",".join(headers.get_all("transfer-encoding")).strip().lower() != "chunked"
    ):
        return BAD_REQUEST
    if settings.CLIENT_IP_HEADER and len(headers.get_all(settings.CLIENT_IP_HEADER.lower())) > 1:
        return BAD_REQUEST
    return None


def host_allowed(environ):
    """Whether Django would accept the request's Host (checked before a body is read)."""
    if settings.DEBUG:
        return True
    domain, _ = split_domain_port(environ.get("HTTP_HOST", ""))
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)
