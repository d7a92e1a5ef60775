import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
application = get_asgi_application()

from haven.vault.crypto import VaultKeyError  # noqa: E402
from haven.vault.keyring import assert_keys_available  # noqa: E402

try:
    assert_keys_available()  # refuse to serve without the right vault keys
except VaultKeyError as error:
    print(f"haven: {error}", file=sys.stderr)
    raise SystemExit(2) from None

from haven.runtime.heartbeat import start_beating  # noqa: E402

# Here, not in AppConfig.ready: only a process serving requests beats as "web".
start_beating("web")
