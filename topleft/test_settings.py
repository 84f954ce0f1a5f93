"""Settings for the test suite: the normal settings with local-development defaults.

CI and `make test` point DATABASE_URL at PostgreSQL and REDIS_URL at Redis.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("TOPLEFT_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test"))

from topleft.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test logins
