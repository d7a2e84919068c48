"""One logging configuration for Django and granian (server.py): JSON lines on stdout in production.

Railway shows stderr lines as errors and indexes one-line JSON with `level` and `message`:
https://docs.railway.com/guides/logs
"""

from contextvars import ContextVar
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import env, env_bool

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"
LOG_FILE_BYTES = 5 * 1024 * 1024
LOG_FILE_COUNT = 3

# The id of the request being handled; set by the request-log middleware.
request_id_var = ContextVar("request_id", default="-")


def logging_config():
    """dictConfig for LOG_LEVEL, LOG_FORMAT (json|text) and LOG_DIR (optional rotating file)."""
    level = env("LOG_LEVEL", "INFO").upper()
    debug = env_bool("DEBUG", False)
    fmt = env("LOG_FORMAT", "text" if debug else "json").lower()
    if fmt not in {"json", "text"}:
        raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {fmt!r}.")

    handlers = {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": fmt,
            "filters": ["request_id"],
        },
    }
    log_dir = env("LOG_DIR")
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        handlers["file"] = {
            # Rotation with a lock file, so several server processes can share one log safely.
            "class": "concurrent_log_handler.ConcurrentRotatingFileHandler",
            "filename": str(Path(log_dir) / "app.log"),
            "maxBytes": LOG_FILE_BYTES,
            "backupCount": LOG_FILE_COUNT,
            "formatter": fmt,
            "filters": ["request_id"],
        }
    names = list(handlers)
    handlers["null"] = {"class": "logging.NullHandler"}
    # django-dbbackup's commands set the level of their logger's first stream handler, or add a
    # plain-text one on stderr if it has none: this one is theirs to set (plumbing/backup.py).
    handlers["dbbackup"] = handlers["stdout"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "plumbing.logging.RequestIdFilter"},
            "granian_notes": {"()": "plumbing.logging.GranianNotesFilter"},
            "no_runserver_request_lines": {"()": "plumbing.logging.DropRunserverRequestLines"},
            "no_refusals": {"()": "plumbing.logging.DropRefusals"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": JSON_FIELDS,
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",  # ISO 8601, UTC
            },
            "text": {"format": TEXT_FORMAT},
        },
        "handlers": handlers,
        "root": {"handlers": names, "level": level},
        "loggers": {
            # Our request log writes one line per request; Django's would add a second one
            # for every 4xx. 5xx tracebacks still come through at ERROR.
            "django.request": {"level": "ERROR", "filters": ["no_refusals"]},
            # Scanners send random Host headers: the request line already records the 400.
            # (A NullHandler: with no handler at all, logging's lastResort prints plain text.)
            "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
            # The same for forms over Django's field and file limits (400), which Django logs
            # as an ERROR with a traceback. The API's parsers answer them as 400 JSON.
            "django.security.TooManyFieldsSent": {"handlers": ["null"], "propagate": False},
            "django.security.TooManyFilesSent": {"handlers": ["null"], "propagate": False},
            # granian's own messages (start, stop, worker respawns); the app logs requests.
            "_granian": {
                "handlers": names,
                "level": level,
                "propagate": False,
                "filters": ["granian_notes"],
            },
            "granian.access": {"handlers": ["null"], "propagate": False},
            "dbbackup.command": {"handlers": ["dbbackup"], "propagate": False},
            # runserver (development) logs each request too: keep only its other messages, such
            # as "You're accessing the development server over HTTPS".
            "django.server": {
                "handlers": names,
                "level": level,
                "propagate": False,
                "filters": ["no_runserver_request_lines"],
            },
        },
    }


class RequestIdFilter:
    """Give every record a request_id: the current request's, or "-" outside a request."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class GranianNotesFilter:
    """Drop granian's start-up advice about settings server.py chose on purpose.

    It warns at every start that more Python threads than 2 x cores "seems quite high": ours
    mostly wait for slow request bodies or their turn (only WEB_THREADS run Django at once), and
    that, and the advice to enable a sysctl Railway does not let us set, would read as a fault in
    every deploy log.
    """

    NOTES = ("Configuration allows spawning up to", "Workers respawn is configured, but the")

    def filter(self, record):
        return not record.getMessage().startswith(self.NOTES)


class DropRunserverRequestLines:
    """Drop runserver's per-request lines: the request-log middleware already logs each request,
    with its request id and duration. (http.server's log_request uses exactly this format.)"""

    REQUEST_LINE = '"%s" %s %s'

    def filter(self, record):
        return record.msg != self.REQUEST_LINE


class DropRefusals:
    """Drop Django's ERROR line for a 503 the server chose to give (no reader free for a body,
    plumbing/readers.py): the request log already records it, as a WARNING."""

    def filter(self, record):
        from plumbing.bodies import BODY_ERROR  # imports Django's settings: not at start-up

        request = getattr(record, "request", None)
        return BODY_ERROR not in getattr(request, "META", {})
