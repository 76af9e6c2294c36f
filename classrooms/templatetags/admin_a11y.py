"""Template helpers that give the set-up admin's form fields the names assistive technology reads.

Django's tabular inlines show each field's label once, as its column header, and render the
fields themselves without a ``<label>``; a screen reader landing in a cell hears no name.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import strip_tags
from django.utils.text import capfirst

register = template.Library()


@register.filter
def named_by_label(bound_field: Any, name: Any = None) -> Any:
    """The field's widget with ``aria-label`` set to ``name`` (by default the field's label),
    unless the widget names itself already."""
    if bound_field.field.widget.attrs.get("aria-label"):
        return bound_field
    label = capfirst(strip_tags(str(name if name is not None else bound_field.label)).strip())
    if not label:
        return bound_field
    return bound_field.as_widget(attrs={"aria-label": label})
