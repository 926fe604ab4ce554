from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """The project's user; a custom model from day one so it can grow without pain."""

    class Meta(AbstractUser.Meta):
        constraints = [
            # The sign-up form checks this too; the database settles two sign-ups racing for
            # "Alice" and "alice", and covers createsuperuser and the admin.
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message=(
                    "A user with that username already exists "
                    "(usernames are compared without regard to upper and lower case)."
                ),
            ),
        ]
