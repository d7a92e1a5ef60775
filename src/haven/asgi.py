import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
application = get_asgi_application()

from haven.vault.keyring import exit_unless_keys_available  # noqa: E402

exit_unless_keys_available()
