from django.urls import path

from . import views

app_name = "errors"

# The original tool's paths, without a trailing slash, so bookmarks keep working.
urlpatterns = [
    path("", views.home, name="home"),
    path("globalerror", views.global_error, name="global"),
    path("listpage", views.list_page, name="list"),
    path("explainerror", views.explain_error, name="explain"),
    path("procedures", views.procedures, name="procedures"),
    path("sites", views.sites, name="sites"),
    path("trends", views.trends, name="trends"),
    path("messages", views.top_messages, name="messages"),
    path("messages/<str:message_key>", views.message_workflows, name="message"),
    path("pin", views.pin_snapshot, name="pin"),
    path("resetcache", views.reset_cache, name="resetcache"),
]
