from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up rules from config.yml (allowed e-mail domains, whitelisted addresses)."""
