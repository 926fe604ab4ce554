import functools

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET

from accounts.permissions import is_verified_operator

# The admin has no login form of its own: allauth's applies rate limits and e-mail verification.
admin.site.login = secure_admin_login(admin.site.login)
_staff_permission = admin.site.has_permission


def _staff_with_a_verified_address(request) -> bool:
    # Checked on every admin request, not only at login: a staff member whose address was
    # unverified (or removed) since loses the admin at once.
    return _staff_permission(request) and is_verified_operator(request.user)


admin.site.has_permission = _staff_with_a_verified_address


@functools.cache
def _favicon_svg() -> bytes:
    with open(finders.find("img/favicon.svg"), "rb") as svg:
        return svg.read()


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: answer with our SVG, not a 404."""
    response = HttpResponse(_favicon_svg(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("errors.urls")),
    path("", include("workflows.urls")),
    path("", include("wwt_project.pages.urls")),
    path("", include("actions.urls")),
    path("", include("clustering.urls")),
]

# A database error outside a view (in a middleware) still answers 503 in the caller's shape.
handler500 = "wwt_project.middleware.server_error"
