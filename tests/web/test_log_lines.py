"""ASVS 7.3.1: what a request carries cannot start a log line of its own."""

import io
import logging
import sys

from django.test import Client

from haven.logformat import SingleLineFormatter


def server_console_handler() -> logging.Handler:
    """The handler settings.LOGGING installs on the root logger (not pytest's capture)."""
    handlers = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    assert len(handlers) == 1, handlers
    return handlers[0]


def test_the_server_log_escapes_line_breaks_and_controls_in_messages():
    handler = server_console_handler()
    assert isinstance(handler.formatter, SingleLineFormatter)
    record = logging.makeLogRecord(
        {"msg": "Not Found: %s", "args": ("/x\r\nERROR forged line\x1b[2J\u2028end",)}
    )
    line = handler.format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert line == "Not Found: /x\\x0d\\x0aERROR forged line\\x1b[2J\\u2028end"


def test_a_traceback_after_the_message_keeps_its_own_lines():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.makeLogRecord({"msg": "failed\nhere", "exc_info": sys.exc_info()})
    text = server_console_handler().format(record)
    first, *rest = text.split("\n")
    assert first == "failed\\x0ahere"
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "ValueError: boom"


def test_a_request_path_with_an_encoded_line_break_is_logged_on_one_line(db):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(server_console_handler().formatter)
    logger = logging.getLogger("haven.errors")  # the support-id line names the path
    logger.addHandler(handler)
    try:
        Client().get("/healthz/%0D%0AWARNING%20forged")
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert logged.count("\n") == 1 and logged.endswith("\n"), logged
    assert "GET /healthz/\\x0d\\x0aWARNING forged answered 404" in logged
