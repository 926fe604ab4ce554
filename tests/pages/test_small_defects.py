"""Small defects of issue 18: the favicon, the API docs loading nothing from outside, the admin's
section names, the long-reason box."""

import re
from pathlib import Path

from django.conf import settings

# Any absolute http(s) URL; the test host is "testserver".
_URL = re.compile(rb"https?://([^/\s\"'<>)]+)")


def _outside_hosts(content: bytes) -> set[bytes]:
    return {host for host in _URL.findall(content) if host not in (b"testserver",)}


def test_favicon_ico_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_the_api_docs_page_and_schema_name_no_outside_url(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200 and _outside_hosts(page.content) == set()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"x-logo" not in schema.content and _outside_hosts(schema.content) == set()


def test_redoc_s_logo_is_ours_not_redocly_s_cdn(client):
    script = client.get("/api/docs/redoc.standalone.js")
    assert script.status_code == 200 and script["Content-Type"] == "text/javascript"
    assert b"cdn.redoc.ly" not in script.content
    assert b'src:"' + settings.STATIC_URL.encode() + b'img/favicon.svg"' in script.content


def test_the_admin_has_one_accounts_section_named_distinctly(admin_client):
    page = admin_client.get("/admin/").content.decode()
    sections = re.findall(r'<a href="/admin/([a-z_]+)/" class="section"[^>]*>([^<]+)</a>', page)
    names = dict(sections)
    assert "account" not in names  # allauth's own "Accounts" (addresses are inline on each user)
    assert names["accounts"] == "Users and e-mail addresses"
    assert [name for name in names.values() if "ccount" in name] == []
    assert "Action history" in page and "Action submissions" not in page
    assert admin_client.get("/admin/actions/actionsubmission/").status_code == 200


def test_the_long_reason_box_counts_its_padding_inside_its_width():
    css = Path(settings.BASE_DIR, "static/css/actions.css").read_text()
    rule = re.search(r"\.reason-row textarea \{([^}]*)\}", css).group(1)
    assert "width: 100%" in rule and "box-sizing: border-box" in rule
