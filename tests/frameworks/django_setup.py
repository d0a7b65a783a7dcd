"""Django configured once per test process, for its own cache suite and ours.

Settings as Django's test runner would have them (an in-memory SQLite database:
the suite caches model instances; its ``Poll`` model's app installed), and the
fetched suite on sys.path as ``django_cache_suite``. ``test_database()`` sets up
the test environment and database once, as ``manage.py test`` does.
"""

import django
from django.conf import settings

from .fetch_suites import django_suite, on_path

on_path(django_suite())

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="mooncake-framework-tests",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_cache_suite"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        MIDDLEWARE=[],
    )
    django.setup()

_database = []


def test_database():
    """Set up Django's test environment and test database (once); a teardown callable."""
    if not _database:
        from django.db import connection
        from django.test.utils import setup_test_environment, teardown_test_environment

        setup_test_environment()
        name = connection.creation.create_test_db(verbosity=0)

        def teardown():
            connection.creation.destroy_test_db(name, verbosity=0)
            teardown_test_environment()

        _database.append(teardown)
    return _database[0]
