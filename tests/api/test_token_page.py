"""The manager's API tokens page: a token is shown once after it is made, listed by its first characters with
its last use, and revoked with a button; bad input stays in the form with the error; managers only."""

import re

import pytest
from sqlalchemy import select

from crm.api.models import ApiToken
from crm.extensions import db
from tests.conftest import csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def test_a_manager_makes_a_token_sees_it_once_and_revokes_it(app, client, auth):
    auth.login("manager")
    token = csrf_token(client, "/api-tokens")
    page = client.post("/api-tokens", data={"csrf_token": token, "name": "Shop website", "role": "read_only"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    secret = re.search(r'id="new-token"[^>]*value="(crm_[^"]+)"', html).group(1)
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    again = client.get("/api-tokens").get_data(as_text=True)
    assert secret not in again and secret[:10] in again and "Shop website" in again
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
        db.session.remove()
    response = client.post(f"/api-tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/api-tokens")})
    assert response.status_code == 302
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "revoked" in client.get("/api-tokens").get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "role": "read_only"}, "Give the token a name."),
    ({"name": "Bot", "role": "owner"}, "Not a valid choice."),
    ({"name": "Bot", "role": "manager", "expires_on": "2001-01-01"}, "The expiry date must be in the future."),
    ({"name": "Bot", "role": "manager", "expires_on": "soon"}, "Not a valid date value."),
])
def test_bad_input_is_shown_next_to_the_field_and_kept(app, client, auth, data, message):
    auth.login("manager")
    page = client.post("/api-tokens", data={"csrf_token": csrf_token(client, "/api-tokens"), **data})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert message in html and 'id="new-token"' not in html
    if data.get("expires_on"):
        assert f'value="{data["expires_on"]}"' in html
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None
        db.session.remove()


@pytest.mark.parametrize("role", ["technician", "front_desk"])
def test_only_managers_handle_tokens(client, auth, role):
    auth.login(role)
    assert client.get("/api-tokens").status_code == 403
