from django.urls import path

from . import views

# The original tool's paths, without a trailing slash, so bookmarks keep working.
urlpatterns = [
    path("", views.home, name="home"),
    path("globalerror", views.global_error, name="global_error"),
    path("listpage", views.list_page, name="list_page"),
    path("explainerror", views.explain_error, name="explain_error"),
    path("procedures", views.procedures, name="procedures"),
    path("sites", views.sites, name="sites"),
    path("trends", views.trends, name="trends"),
    path("resetcache", views.reset_cache, name="reset_cache"),
]
