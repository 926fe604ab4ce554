from django import template

from workflows.exit_codes import exit_code_label

register = template.Library()


@register.filter(name="exit_code")
def exit_code_filter(code) -> str:
    """{{ code|exit_code }}: "NotReported" for -1, else the number as text."""
    return exit_code_label(code)
