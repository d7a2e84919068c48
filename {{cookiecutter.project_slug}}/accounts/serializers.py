"""The auth API's request and response shapes.

Each field states what validation enforces, so the OpenAPI schema built from it is the
contract: lengths come from the User model and from AUTH_PASSWORD_VALIDATORS.
"""

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework import serializers

from plumbing.fields import StrictCharField, StrictEmailField, StrictModelSerializer

from .models import DUPLICATE_EMAIL

User = get_user_model()


def _password_validator(kind):
    """The configured AUTH_PASSWORD_VALIDATORS entry of this class, if any."""
    validators = password_validation.get_default_password_validators()
    return next((v for v in validators if isinstance(v, kind)), None)


def password_field(**kwargs):
    """A password as Django's forms take it (never trimmed), with the validators' length and
    "not only digits" rules stated on the field, so the schema shows them."""
    length = _password_validator(password_validation.MinimumLengthValidator)
    validators = []
    if _password_validator(password_validation.NumericPasswordValidator):
        # Unanchored, as JSON Schema patterns are: at least one character that is not a digit.
        validators.append(RegexValidator(r"\D", "This password is entirely numeric."))
    return StrictCharField(
        min_length=length.min_length if length else None,
        validators=validators,
        trim_whitespace=False,
        style={"input_type": "password"},
        **kwargs,
    )


# The signed-in user (GET /api/auth/me/, token responses). A plain Serializer: a ModelSerializer
# reads the model and builds its fields again each time one is made, a large part of the cost
# of the endpoint clients call most. (A docstring here would become the schema's description.)
class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)


class SignupSerializer(StrictModelSerializer):
    password = password_field(write_only=True)

    class Meta:
        model = User
        fields = ["username", "email", "password"]
        # The e-mail field is built from the model's, so its max length (and any uniqueness
        # the model declares) is checked here, before the database would refuse it.
        extra_kwargs = {"email": {"required": True, "allow_blank": False}}

    def validate_email(self, value):
        email = User.objects.normalize_email(value)
        if User.email_taken(email):
            raise serializers.ValidationError(DUPLICATE_EMAIL)
        return email

    def validate(self, attrs):
        # Django's validators (length, common, numeric, similar to the username or e-mail).
        candidate = User(username=attrs["username"], email=attrs["email"])
        password_validation.validate_password(attrs["password"], user=candidate)
        return attrs

    def create(self, validated_data):
        return User.objects.create_user(**validated_data)


class LoginSerializer(serializers.Serializer):
    username = StrictCharField(max_length=User._meta.get_field(User.USERNAME_FIELD).max_length)
    password = StrictCharField(style={"input_type": "password"}, trim_whitespace=False)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = StrictCharField(style={"input_type": "password"}, trim_whitespace=False)
    new_password = password_field()

    def validate_old_password(self, value):
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("Your current password is incorrect.")
        return value

    def validate_new_password(self, value):
        password_validation.validate_password(value, user=self.context["request"].user)
        return value


class PasswordResetRequestSerializer(serializers.Serializer):
    email = StrictEmailField()


class PasswordResetConfirmSerializer(serializers.Serializer):
    """uid and token from the reset e-mail, and the new password. A bad uid and a bad token
    get the same answer; the token stops working once the password changes (single use) and
    after settings.PASSWORD_RESET_TIMEOUT."""

    INVALID = "This reset link is invalid or has expired."

    uid = StrictCharField()
    token = StrictCharField()
    new_password = StrictCharField(style={"input_type": "password"}, trim_whitespace=False)

    def validate(self, attrs):
        try:
            user = User._default_manager.get(pk=force_str(urlsafe_base64_decode(attrs["uid"])))
        except (TypeError, ValueError, OverflowError, User.DoesNotExist):
            user = None
        if user is None or not default_token_generator.check_token(user, attrs["token"]):
            raise serializers.ValidationError({"token": [self.INVALID]})
        try:
            password_validation.validate_password(attrs["new_password"], user=user)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"new_password": list(error.messages)}) from None
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        read_only=True, help_text="Send it as `Authorization: Token <token>`."
    )
    expires = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the token stops working (then 401: log in again); null if never.",
    )
    user = UserSerializer(read_only=True)
