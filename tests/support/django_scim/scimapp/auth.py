"""Bearer-token authentication: django-scim2 leaves authentication to the app and only checks
that `request.user` is authenticated (its SCIMAuthCheckMiddleware)."""
import hmac
import os

from django.contrib.auth.models import AnonymousUser


class Client:
    """The one SCIM client this app knows: whoever holds the token."""

    is_authenticated = True
    is_anonymous = False
    is_active = True


class BearerToken:
    def __init__(self, get_response):
        self.get_response = get_response
        self.expected = ("Bearer " + os.environ["SCIM_TOKEN"]).encode()

    def __call__(self, request):
        given = request.headers.get("Authorization", "").encode()
        ok = hmac.compare_digest(given, self.expected)
        request.user = Client() if ok else AnonymousUser()
        return self.get_response(request)
