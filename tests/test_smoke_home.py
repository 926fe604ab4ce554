import pytest

from tests.factories import ErrorCountFactory


@pytest.mark.django_db
def test_home_shows_counts_at_a_glance(client):
    ErrorCountFactory(count=7)
    ErrorCountFactory(count=5, site="T1_US_FNAL")
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "12</div>failed jobs" in html
    assert "2</div>workflows with errors" in html
