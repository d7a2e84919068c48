"""The OpenAPI schema as the contract: each operation documents the errors it can answer.

drf-spectacular documents success responses. A client also meets 400 (invalid fields or a
malformed body), 401 (no token or a bad one), 403, 404, 413 (body too large), 415 (unsupported
Content-Type), 429 (rate limited) and 503 (the rate-limit store is down on a view that fails
closed), all JSON. This AutoSchema (settings.REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) reads
them off what each view does, so a view you add is documented the same way.
https://drf-spectacular.readthedocs.io/en/latest/customization.html
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import AllowAny, IsAuthenticated

# DRF's shape for invalid fields: {"field": ["message", ...], "non_field_errors": [...]};
# nested serializers nest objects or lists of them.
VALIDATION_ERROR = {
    "type": "object",
    "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before retrying.",
    }
}
BODY_METHODS = {"POST", "PUT", "PATCH"}


# DRF's shape for every error but invalid fields, and for a view's own messages: one schema
# component, "Detail" (its docstring is the description the API docs show).
class DetailSerializer(serializers.Serializer):
    """A message: why the request failed, or what was done."""

    detail = serializers.CharField(read_only=True)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, through its public override points only: get_operation
    gets each operation's error responses added (what a view documents itself is kept)."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code, (description, schema, headers) in self.error_responses().items():
            response = responses.setdefault(
                code,
                {"description": description, "content": {"application/json": {"schema": schema}}},
            )
            if headers:
                # A view's own 429 or 503 (extend_schema) still comes with its Retry-After.
                response["headers"] = {**headers, **response.get("headers", {})}
        return operation

    def webhook_signature(self):
        """A signed webhook's Signature (plumbing/webhooks.py), or None."""
        signature = getattr(self.view, "signature", None)
        return signature if getattr(signature, "header", "") else None

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        signature = self.webhook_signature()
        if signature and self.method == "POST":
            header = OpenApiParameter(
                signature.header,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description=signature.description,
            )
            parameters = [*parameters, header]
        return parameters

    def get_extensions(self):
        extensions = super().get_extensions()
        if self.webhook_signature():
            # For clients and fuzzers: a schema-valid request is still refused without the
            # provider's signature.
            extensions = {**extensions, "x-signed-webhook": True}
        return extensions

    def is_filtered(self):
        """A list with django-filter's query parameters (filterset_fields or filterset_class)."""
        filterset = getattr(self.view, "filterset_class", None) or getattr(
            self.view, "filterset_fields", None
        )
        return bool(filterset) and self.is_list() and bool(self.get_filter_backends())

    def schema_component(self, name, schema):
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component.ref

    def handler(self):
        """The function that answers this operation: a ViewSet's action (`create`, `list`, an
        @action), else the view's method handler (`post`, `get`)."""
        action = getattr(self.view, "action", None)
        return getattr(self.view, action or self.method.lower(), None)

    def is_list(self):
        action = getattr(self.view, "action", None)
        if action is not None:
            return action == "list"
        return isinstance(self.view, ListModelMixin) and "{" not in self.path

    def error_responses(self):
        """{status: (description, schema, headers)}: what this view answers besides success."""
        view, error = self.view, self.resolve_serializer(DetailSerializer, "response").ref
        rate_limit = getattr(self.handler(), "rate_limit", None)  # set by @ratelimit
        permissions = view.get_permissions()
        authenticators = view.get_authenticators()
        responses = {}
        if self.method in BODY_METHODS and self.get_request_serializer() is not None:
            invalid = {"oneOf": [self.schema_component("ValidationError", VALIDATION_ERROR), error]}
            responses["400"] = ("Invalid fields, or a body that does not parse.", invalid, None)
            responses["413"] = ("Request body too large.", error, None)
            responses["415"] = ("Unsupported Content-Type.", error, None)
        if authenticators:
            responses["401"] = (
                "No credentials, invalid ones, or an expired token (log in again).",
                error,
                None,
            )
        needs_more = any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in permissions)
        anonymous_refused = not authenticators and any(
            not isinstance(p, AllowAny) for p in permissions
        )
        if needs_more or anonymous_refused:
            responses["403"] = ("Not allowed to do this.", error, None)
        if "{" in self.path:
            responses["404"] = ("Not found.", error, None)
        elif self.method == "GET" and self.is_list() and getattr(view, "paginator", None):
            responses["404"] = ("No such page: `page` is past the last one.", error, None)
        if self.method == "GET" and self.is_filtered():
            invalid = self.schema_component("ValidationError", VALIDATION_ERROR)
            responses["400"] = ("Invalid query parameters.", invalid, None)
        if self.webhook_signature():
            responses["400"] = (
                "Missing or invalid signature, or a body that is not JSON.",
                error,
                None,
            )
            responses["503"] = ("The webhook's secret is not set.", error, None)
        if view.get_throttles() or rate_limit:
            responses["429"] = (
                "Too many requests: retry after Retry-After seconds.",
                error,
                RETRY_AFTER,
            )
        if rate_limit and not rate_limit["fail_open"]:
            responses["503"] = ("Rate-limit store unreachable: retry later.", error, RETRY_AFTER)
        return responses
