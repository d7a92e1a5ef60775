"""ASVS 4.0.3 7.3.1: a log line cannot be forged through what it records. A typed value that
reaches a log message (a path, a user agent, a device's payload) could carry a line break and
start a line of its own that looks like the server's; every control character in the message is
written as an escape instead. The traceback the formatter appends after the message keeps its
line breaks: it is the server's own text."""

import logging

# C0 controls (tab included: it can align forged columns), DEL, C1 controls and the Unicode line
# and paragraph separators, each written as a visible escape.
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _CONTROLS}


def escape_controls(text: str) -> str:
    return text.translate(_ESCAPES)


class SingleLineFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))
