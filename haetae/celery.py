"""The Celery application: queues ingest, detect and reports; eager when no broker is configured."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")

app = Celery("haetae")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
