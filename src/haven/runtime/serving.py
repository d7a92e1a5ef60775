"""What every web server entry point (ASGI or WSGI) does once Django is set up."""

from haven.runtime.heartbeat import start_beating
from haven.vault.keyring import exit_unless_keys_available


def start_web_process() -> None:
    exit_unless_keys_available()  # refuse to serve without the right vault keys
    # Here, not in AppConfig.ready: only a process serving requests beats as "web".
    start_beating("web")
