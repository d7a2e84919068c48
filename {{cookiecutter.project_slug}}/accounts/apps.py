"""The accounts app: the user model and the auth API (yours to change)."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
