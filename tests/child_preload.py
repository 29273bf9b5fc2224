"""What the fork server of ``tests.processes`` imports once, before it forks each child process of a test.

A fresh ``python manage.py …`` spends about a second of CPU importing these libraries; a child forked from a
process that holds them starts in a few milliseconds. Only libraries that read no Django setting and no
environment variable of the test's at import: the child sets its environment, then configures Django and
imports the project itself, as ``manage.py`` does. A library that cannot be imported here (one that needs
Django's settings or app registry) is simply imported by the child.
"""

import importlib

LIBRARIES = (
    "asyncio",
    "email.message",
    "xml.etree.ElementTree",
    "numpy",
    "PIL.Image",
    "psycopg",
    "cryptography.hazmat.primitives.ciphers.aead",
    "cryptography.x509",
    "asn1crypto.x509",
    "yaml",
    "sqlparse",
    "kombu",
    "celery",
    "celery.app.base",
    "django.core.management",
    "django.core.serializers.json",
    "django.db.models",
    "django.http",
    "django.urls",
    "django.template",
    "django.views.generic",
)

for name in LIBRARIES:
    try:
        importlib.import_module(name)
    except Exception:  # noqa: S112 - the child imports it itself (see above)
        continue
