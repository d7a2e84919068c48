import logging

from plumbing.logging import DropRunserverRequestLines


def server_record(msg, *args):
    return logging.LogRecord("django.server", logging.INFO, __file__, 1, msg, args, None)


def test_runserver_logs_each_request_once():
    """runserver's own request line is dropped (the request-log middleware writes one); its
    other messages still come through."""
    server_filters = logging.getLogger("django.server").filters
    assert any(isinstance(f, DropRunserverRequestLines) for f in server_filters)
    drop = DropRunserverRequestLines()
    assert not drop.filter(server_record('"%s" %s %s', "GET /health/ HTTP/1.1", "200", "45"))
    https = "You're accessing the development server over HTTPS, but it only supports HTTP."
    assert drop.filter(server_record(https))
