from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin has no login form of its own: allauth's applies rate limits and e-mail verification.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("errors.urls")),
    path("", include("workflows.urls")),
    path("", include("actions.urls")),
    path("", include("clustering.urls")),
]
