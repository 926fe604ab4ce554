from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The project's user; a custom model from day one so it can grow without pain."""
