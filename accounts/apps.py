from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's app is also labelled "Accounts" in the admin; ours holds the users.
    verbose_name = "Users and e-mail addresses"
