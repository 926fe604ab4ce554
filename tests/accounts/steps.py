"""Steps an operator takes, shared by the account tests."""

import re


def link_in(message) -> str:
    """The one http(s) link in an e-mail body, as a path the test client can open."""
    links = re.findall(r"https?://testserver(/\S+)", message.body)
    assert len(links) == 1, message.body
    return links[0]


PASSWORD = "a-long-enough-passphrase"


def sign_up(client, username="dana", email="dana@cern.ch", password=PASSWORD):
    return client.post(
        "/accounts/signup/",
        {"username": username, "email": email, "password1": password, "password2": password},
    )
