"""A minimal Django project serving django-scim2 with its default adapters and views, on SQLite.
serve.py sets the environment: SCIM_DB (the SQLite file), SCIM_TOKEN, SCIM_NETLOC."""
import os

SECRET_KEY = "roster-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_scim",
    "scimapp",
]
MIDDLEWARE = ["scimapp.auth.BearerToken"]
ROOT_URLCONF = "urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SCIM_DB", "scim.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
AUTH_USER_MODEL = "scimapp.TestUser"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING_CONFIG = None

SCIM_SERVICE_PROVIDER = {
    "GROUP_MODEL": "scimapp.models.TestGroup",
    "SCHEME": "http",
    "NETLOC": os.environ.get("SCIM_NETLOC", "127.0.0.1"),
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A bearer token in the Authorization header",
        }
    ],
}
