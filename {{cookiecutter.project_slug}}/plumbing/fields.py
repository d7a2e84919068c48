"""Text fields that take only text.

DRF's CharField accepts a JSON number and turns it into text (`{"username": 1.5e201}` signed up
a user named "1.5e+201"), though the OpenAPI schema built from it says `"type": "string"`:
Schemathesis (the template's tests) found that signup answered 201, its ST201 check (a request
the schema calls invalid, accepted). These fields answer anything but a string with DRF's own
400 instead. Form-encoded values are always strings, so only JSON bodies see a difference. Use
them, and StrictModelSerializer, in your own serializers for the same contract.
"""

from django.db import models
from rest_framework import serializers


class OnlyStrings:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(OnlyStrings, serializers.CharField):
    """DRF's CharField, strings only ("Not a valid string.")."""


class StrictEmailField(OnlyStrings, serializers.EmailField):
    """DRF's EmailField, strings only ("Enter a valid email address.")."""


class StrictModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, whose text model fields take strings only."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
    }
