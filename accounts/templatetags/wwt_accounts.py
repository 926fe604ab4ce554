from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def mail_drop_folder() -> str:
    """The folder account e-mails are written to when the file e-mail backend is on, else ""."""
    if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
        return str(settings.EMAIL_FILE_PATH)
    return ""
