from django.urls import path

from . import views

# The original tool's paths, without a trailing slash, so bookmarks keep working.
urlpatterns = [
    path("seeworkflow", views.see_workflow, name="see_workflow"),
    path("showlog", views.show_log, name="show_log"),
]
