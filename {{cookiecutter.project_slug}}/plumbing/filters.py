"""Query-string filters for list views: django-filter, strict about booleans.

django-filter's BooleanFilter reads anything but true/false/1/0 as "no filter", so
`?available=maybe` quietly lists every row; this one answers 400, as the schema then says
(plumbing/schema.py documents 400 for every filtered list). Use it in a FilterSet, or through
`filterset_fields` (FilterSet below maps boolean model fields to it):

    class ProductViewSet(viewsets.ReadOnlyModelViewSet):
        filterset_fields = ["available"]  # ?available=true
https://django-filter.readthedocs.io/en/stable/guide/rest_framework.html
"""

from django import forms
from django.db import models
from django_filters import rest_framework as filters
from django_filters import widgets

__all__ = ["BooleanFilter", "FilterBackend", "FilterSet"]

ACCEPTED = {"", "true", "false", "1", "0"}


class BooleanWidget(widgets.BooleanWidget):
    def value_from_datadict(self, data, files, name):
        parsed = super().value_from_datadict(data, files, name)
        # An unknown value reaches the field, which refuses it, instead of becoming "no filter".
        return data.get(name) if parsed is None else parsed


class StrictNullBooleanField(forms.NullBooleanField):
    def to_python(self, value):
        if isinstance(value, str) and value.lower() not in ACCEPTED:
            raise forms.ValidationError("Must be true or false.", code="invalid")
        return super().to_python(value)


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictNullBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", BooleanWidget)
        super().__init__(*args, **kwargs)


class FilterSet(filters.FilterSet):
    """django-filter's FilterSet for DRF, with boolean model fields filtered by BooleanFilter."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
    }


class FilterBackend(filters.DjangoFilterBackend):
    """DRF's filter backend (settings.REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"]), building a view's
    `filterset_fields` with FilterSet above."""

    filterset_base = FilterSet
