"""What every web server entry point (ASGI or WSGI) does once Django is set up."""

import gc
from typing import Any

from django.core.signals import request_finished

from haven.runtime.heartbeat import start_beating
from haven.vault.keyring import exit_unless_keys_available


def start_web_process() -> None:
    exit_unless_keys_available()  # refuse to serve without the right vault keys
    # Here, not in AppConfig.ready: only a process serving requests beats as "web".
    start_beating("web")
    freeze_startup_objects()


def freeze_startup_objects() -> None:
    """Keep the objects a web process lives on out of every later garbage collection.

    Django, the apps, the URL conf, compiled templates and the key ring are about 230,000
    objects that live as long as the process. A full collection walks all of them: 0.3-0.5 s on
    a 2-core server, during which the request in hand waits; a worker made one every 100-200
    requests. Frozen (gc.freeze), they are never walked again: the same collection takes about
    13 ms. Frozen now, after Django's set-up, and once more when the process's first request
    is done, which loads what Django builds lazily (URL resolver, templates, caches)."""
    gc.freeze()
    request_finished.connect(_freeze_after_first_request, dispatch_uid=_FIRST_REQUEST)


_FIRST_REQUEST = "haven.runtime.serving.first_request"


def _freeze_after_first_request(**_: Any) -> None:
    request_finished.disconnect(dispatch_uid=_FIRST_REQUEST)
    gc.freeze()
