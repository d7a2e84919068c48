"""API tokens that expire: DRF's token authentication plus a lifetime counted from the token's
creation (settings.TOKEN_LIFETIME; None: tokens never expire).

The check reads the `created` time of the token row DRF's lookup already fetched: no query and
no write per request. An expired token gets 401 {"detail": EXPIRED} until the next login
replaces it; accounts.tasks.delete_expired_tokens deletes expired ones on a schedule.
django-rest-knox would also expire tokens (and store them hashed), but its lookup reads every
token of the user on each request: one more query on the busiest path.
"""

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

EXPIRED = "Token expired: log in again for a new one."


def expires_at(token):
    """When the token stops working, or None if tokens do not expire."""
    if settings.TOKEN_LIFETIME is None:
        return None
    return token.created + settings.TOKEN_LIFETIME


def expired_before():
    """Tokens created before this moment have expired (None: none ever do)."""
    if settings.TOKEN_LIFETIME is None:
        return None
    return timezone.now() - settings.TOKEN_LIFETIME


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused with 401 once the token is TOKEN_LIFETIME old."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        expires = expires_at(token)
        if expires is not None and expires <= timezone.now():
            raise exceptions.AuthenticationFailed(EXPIRED, code="token_expired")
        return user, token
