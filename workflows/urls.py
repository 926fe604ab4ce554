from django.urls import path

from . import views

app_name = "workflows"

# The original tool's path, without a trailing slash, so bookmarks keep working.
urlpatterns = [
    path("showlog", views.show_log, name="logs"),
]
