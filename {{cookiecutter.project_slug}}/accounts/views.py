"""Token-authentication API: signup, login, logout, me, password change, password reset.

Limits (settings.RATELIMIT_RATES): login and signup per client address, failed logins per
username (from any address), password change per user. They fail closed (503) if the counter
store is unreachable: better no logins for a moment than unlimited password guessing.
"""

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from plumbing.lockout import login_lockout
from plumbing.ratelimit import ratelimit
from plumbing.schema import DetailSerializer

from .authentication import expired_before, expires_at
from .serializers import (
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    SignupSerializer,
    TokenSerializer,
    UserSerializer,
)
from .tasks import send_password_reset_email


def token_response(user, status_code=status.HTTP_200_OK):
    """The user's token (a new one if theirs has expired), with when it expires."""
    cutoff = expired_before()
    if cutoff is not None:
        Token.objects.filter(user=user, created__lte=cutoff).delete()
    token, _ = Token.objects.get_or_create(user=user)
    body = {"token": token.key, "expires": expires_at(token), "user": UserSerializer(user).data}
    return Response(TokenSerializer(body).data, status=status_code)


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


def requested_email(group, request):
    """Rate-limit key: the address a reset is asked for, whether or not it has an account."""
    data = request.data if isinstance(request.data, dict) else {}
    return str(data.get("email", "")).strip().lower()


def public_responses(success):
    """The answers of a rate-limited public endpoint, for the OpenAPI schema."""
    return {
        success: DetailSerializer,
        400: OpenApiResponse(OpenApiTypes.OBJECT, description="Field errors: {field: [messages]}."),
        429: OpenApiResponse(DetailSerializer, description="Too many requests; see Retry-After."),
        503: OpenApiResponse(DetailSerializer, description="Rate-limit store unreachable."),
    }


class PasswordResetRequestView(PublicView):
    """E-mail a password-reset token. The answer is the same whether or not an account uses
    the address, so it cannot be used to find accounts; a background task sends the mail."""

    ANSWER = "If an account uses this address, an e-mail with a reset link is on its way."

    @extend_schema(request=PasswordResetRequestSerializer, responses=public_responses(202))
    @ratelimit("password_reset", key="ip")
    @ratelimit("password_reset_email", key=requested_email)
    def post(self, request):
        serializer = PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        send_password_reset_email.enqueue(serializer.validated_data["email"])
        return Response({"detail": self.ANSWER}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicView):
    """Set a new password with the uid and token from the reset e-mail. Every token of the
    account is revoked (sign in again); the reset token itself works only once."""

    @extend_schema(request=PasswordResetConfirmSerializer, responses=public_responses(200))
    @ratelimit("password_reset_confirm", key="ip")
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        with transaction.atomic():
            user.set_password(serializer.validated_data["new_password"])
            user.save(update_fields=["password"])
            Token.objects.filter(user=user).delete()
        return Response({"detail": "Your password has been reset. Log in with the new one."})
