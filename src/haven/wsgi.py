import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
application = get_wsgi_application()

from haven.runtime.serving import start_web_process  # noqa: E402

start_web_process()
