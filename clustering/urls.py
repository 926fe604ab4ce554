from django.urls import path

from . import views

app_name = "clustering"
urlpatterns = [
    path("cluster", views.cluster, name="cluster"),
    path("cluster/projection.svg", views.projection, name="projection"),
]
