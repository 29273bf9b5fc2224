"""WSGI entry point (gunicorn haetae.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
application = get_wsgi_application()
