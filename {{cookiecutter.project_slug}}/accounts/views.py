"""Token-authentication API: signup, login, logout, me, password change.

Limits (settings.RATELIMIT_RATES): login and signup per client address, failed logins per
username (from any address), password change per user. They fail closed (503) if the counter
store is unreachable: better no logins for a moment than unlimited password guessing.
"""

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from plumbing.ratelimit import login_lockout, ratelimit

from .serializers import (
    LoginSerializer,
    PasswordChangeSerializer,
    SignupSerializer,
    TokenSerializer,
    UserSerializer,
)


def token_response(user, status_code=status.HTTP_200_OK):
    token, _ = Token.objects.get_or_create(user=user)
    return Response({"token": token.key, "user": UserSerializer(user).data}, status=status_code)


class PublicView(APIView):
    """Open to anyone; credentials sent along are ignored (no CSRF or token checks)."""

    authentication_classes = []
    permission_classes = [AllowAny]


class SignupView(PublicView):
    """Create an account; returns its token."""

    @extend_schema(request=SignupSerializer, responses={201: TokenSerializer})
    @ratelimit("signup", key="ip")
    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                user = serializer.save()
                return token_response(user, status.HTTP_201_CREATED)
        except IntegrityError:
            # A concurrent signup took the username or e-mail after validation: validating
            # again names the field (400), as if the requests had arrived one after the other.
            SignupSerializer(data=request.data).is_valid(raise_exception=True)
            raise


class LoginView(PublicView):
    """Exchange a username and password for a token."""

    @extend_schema(request=LoginSerializer, responses=TokenSerializer)
    @ratelimit("login", key="ip")
    @login_lockout
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            # Never say whether the username or the password was wrong.
            return Response(
                {"detail": "Unable to log in with the provided credentials."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return token_response(user)


class LogoutView(APIView):
    """Revoke the caller's token."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user."""

    permission_classes = [IsAuthenticated]
    serializer_class = UserSerializer

    def get(self, request):
        return Response(UserSerializer(request.user).data)


class PasswordChangeView(APIView):
    """Change the password; the old token is revoked and a new one returned."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeSerializer, responses=TokenSerializer)
    @ratelimit("password_change", key="user")
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            request.user.set_password(serializer.validated_data["new_password"])
            request.user.save(update_fields=["password"])
            Token.objects.filter(user=request.user).delete()
            return token_response(request.user)
