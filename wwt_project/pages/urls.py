from django.urls import path

from . import views

app_name = "pages"

# The original tool's path, without a trailing slash, so bookmarks keep working.
urlpatterns = [
    path("seeworkflow", views.see_workflow, name="workflow"),
    path("seeworkflow/refresh", views.refresh_workflow, name="workflow-refresh"),
]
