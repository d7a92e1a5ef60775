import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
application = get_asgi_application()

from haven.vault.keyring import exit_unless_keys_available  # noqa: E402

exit_unless_keys_available()  # refuse to serve without the right vault keys

from haven.runtime.heartbeat import start_beating  # noqa: E402

# Here, not in AppConfig.ready: only a process serving requests beats as "web".
start_beating("web")
