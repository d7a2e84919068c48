"""Background tasks of the accounts app: the password-reset e-mail, and the hourly clean-up of
expired API tokens (a periodic task: plumbing/schedule.py).

The request only enqueues the address it was given, so it does the same work (and answers the
same) whether or not an account uses it; the worker looks the account up and sends the mail.
Only the address is stored in the queue: the token is made here, when the mail is sent.
"""

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from plumbing.schedule import cron
from plumbing.tasks import task

from .authentication import expired_before

CONFIRM_PATH = "/api/auth/password-reset/confirm/"


def reset_message(user, uid, token):
    if settings.PASSWORD_RESET_URL:
        how = "Choose a new password here:\n\n" + settings.PASSWORD_RESET_URL.format(
            uid=uid, token=token
        )
    else:
        how = (
            f"Post this uid and token with your new password to {CONFIRM_PATH}\n\n"
            f"uid: {uid}\ntoken: {token}"
        )
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    return (
        f"Hello {user.get_username()},\n\n"
        f"Someone asked to reset the password of your {{ cookiecutter.project_name }} account. "
        f"{how}\n\n"
        f"This works once, within {minutes} minutes. If you did not ask, ignore this e-mail: "
        "your password stays as it is.\n"
    )


@task()
def send_password_reset_email(email):
    """E-mail a reset token to each active account with this address and a usable password
    (Django's own rule: PasswordResetForm.get_users). Returns how many were sent."""
    sent = 0
    for user in PasswordResetForm().get_users(email):
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        sent += send_mail(
            "Reset your {{ cookiecutter.project_name }} password",
            reset_message(user, uid, token),
            None,  # DEFAULT_FROM_EMAIL
            [getattr(user, user.get_email_field_name())],
        )
    return sent


@cron("7 * * * *")  # hourly, at 7 past (UTC)
@task()
def delete_expired_tokens():
    """Delete the API tokens older than TOKEN_LIFETIME (refused already, kept only until now).
    Returns how many were deleted."""
    cutoff = expired_before()
    if cutoff is None:
        return 0
    deleted, _ = Token.objects.filter(created__lte=cutoff).delete()
    return deleted
