from django import template
from django.conf import settings

register = template.Library()

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


@register.simple_tag
def mail_drop_folder() -> str:
    """The folder account e-mails are written to, for the demo's "find your link" hint, else "".

    Only with the file e-mail backend and DEBUG on: a server's paths are not for every visitor.
    """
    if settings.DEBUG and settings.EMAIL_BACKEND == FILE_BACKEND:
        return str(settings.EMAIL_FILE_PATH)
    return ""
