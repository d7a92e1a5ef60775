import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
application = get_asgi_application()

from haven.runtime.serving import start_web_process  # noqa: E402

start_web_process()
