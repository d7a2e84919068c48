"""The project's user model: Django's own fields, with an e-mail address unique in any case.

Django recommends a custom user model from the first migration: switching later means
rewriting the history of every table that points at users.
https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/topics/auth/customizing/#using-a-custom-user-model-when-starting-a-project
Add profile fields here (then `python manage.py makemigrations accounts`).
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower

DUPLICATE_EMAIL = "A user with that e-mail address already exists."


class User(AbstractUser):
    # 254: the longest address SMTP can deliver (RFC 5321 with RFC 3696 erratum 1690).
    email = models.EmailField("email address", max_length=254, blank=True)

    class Meta(AbstractUser.Meta):
        constraints = [
            # Alice@Example.com and alice@example.com are one address. Blank addresses
            # (users created in the admin without one) are not compared.
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                condition=~models.Q(email=""),
                violation_error_message=DUPLICATE_EMAIL,
            ),
        ]

    @classmethod
    def email_taken(cls, email):
        """Whether a user has this address in any case, compared in SQL as the constraint is."""
        users = cls._default_manager.alias(email_lower=Lower("email"))
        return users.filter(email_lower=Lower(models.Value(email))).exists()
