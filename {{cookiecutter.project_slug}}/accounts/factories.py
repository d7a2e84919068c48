"""Test data for users (factory_boy): `UserFactory()` saves a user, `UserFactory.build()` does not.

Every user gets the password PASSWORD, so a test can log in as any of them.
https://factoryboy.readthedocs.io/en/stable/orms.html#django
"""

import factory
from django.contrib.auth import get_user_model

PASSWORD = "a-test-password-1"  # noqa: S105 - test users only


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)
