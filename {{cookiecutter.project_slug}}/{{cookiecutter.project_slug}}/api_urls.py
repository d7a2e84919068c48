from django.urls import path

from plumbing import diagnostics

from . import auth_api

urlpatterns = [
    path("auth/signup/", auth_api.SignupView.as_view(), name="auth-signup"),
    path("auth/login/", auth_api.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", auth_api.LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", auth_api.MeView.as_view(), name="auth-me"),
    path("auth/password/", auth_api.PasswordChangeView.as_view(), name="auth-password"),
    path("debug/error/", diagnostics.ErrorCheckView.as_view(), name="debug-error"),
]
