"""Who may call what: every API endpoint x every token role. The table below is the rule; a new endpoint without
a row fails here. Writes allow the roles the equivalent web page allows (its view's ``allowed_roles``), reads every
token; a read-only token writes nothing."""

import pytest

from crm.api.models import TokenRole

EVERYONE = frozenset(TokenRole)
RO, TECH, DESK, MANAGER = TokenRole.READ_ONLY, TokenRole.TECHNICIAN, TokenRole.FRONT_DESK, TokenRole.MANAGER

# (path, method) -> (roles allowed, the web page's view doing the same, or None for a read)
MATRIX = {
    ("/api/v1/customers", "GET"): (EVERYONE, None),
    ("/api/v1/customers", "POST"): ({DESK, MANAGER}, "customers.new"),
    ("/api/v1/customers/{customer_id}", "GET"): (EVERYONE, None),
    ("/api/v1/customers/{customer_id}", "PATCH"): ({DESK, MANAGER}, "customers.edit"),
    ("/api/v1/customers/{customer_id}/loyalty", "GET"): (EVERYONE, None),
    ("/api/v1/customers/{customer_id}/ledger", "GET"): (EVERYONE, None),
    ("/api/v1/customers/{customer_id}/points", "POST"): ({MANAGER}, "loyalty.adjust"),
    ("/api/v1/orders", "GET"): (EVERYONE, None),
    ("/api/v1/orders", "POST"): ({DESK, MANAGER}, "orders.new"),
    ("/api/v1/orders/{order_id}", "GET"): (EVERYONE, None),
    ("/api/v1/orders/{order_id}/status", "POST"): ({TECH, DESK, MANAGER}, "orders.change_status"),
    ("/api/v1/orders/{order_id}/lines", "POST"): ({TECH, DESK, MANAGER}, "orders.add_line"),
    ("/api/v1/catalogue/items", "GET"): (EVERYONE, None),
    ("/api/v1/sales", "GET"): (EVERYONE, None),
    ("/api/v1/sales/{sale_id}", "GET"): (EVERYONE, None),
    ("/api/v1/refunds", "GET"): (EVERYONE, None),
    ("/api/v1/refunds/{refund_id}", "GET"): (EVERYONE, None),
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_v1."):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield rule.rule.replace("<int:", "{").replace(">", "}"), method, app.view_functions[rule.endpoint]


def test_every_endpoint_has_a_row_and_its_view_allows_exactly_those_roles(app):
    routed = {(path, method): view for path, method, view in _routes(app)}
    assert set(routed) == set(MATRIX), "add the new endpoint to MATRIX (and think about who may call it)"
    for key, view in routed.items():
        assert view.api_roles == frozenset(MATRIX[key][0]), key


def test_writes_allow_the_roles_of_the_equivalent_web_page(app):
    for (path, method), (roles, web_endpoint) in MATRIX.items():
        if method == "GET":
            assert web_endpoint is None and roles == EVERYONE
            continue
        assert RO not in roles, (path, method)
        web_roles = {str(role) for role in app.view_functions[web_endpoint].allowed_roles}
        assert {str(role) for role in roles} == web_roles, (path, method, web_endpoint)


@pytest.fixture
def headers(api_token):
    return {role: api_token(role) for role in TokenRole}


@pytest.mark.parametrize(("path", "method"), sorted(MATRIX))
def test_each_role_is_refused_or_let_through_as_the_table_says(client, headers, path, method):
    """A refused role gets 403 before anything else is looked at; an allowed one is never refused (its empty
    request gets 200, 400, 404 or 422)."""
    url = path.replace("{customer_id}", "1").replace("{order_id}", "1").replace("{sale_id}", "1") \
        .replace("{refund_id}", "1")
    allowed = MATRIX[(path, method)][0]
    for role in TokenRole:
        body = {} if method != "GET" else None
        response = client.open(url, method=method, json=body, headers=headers[role])
        if role in allowed:
            assert response.status_code in (200, 400, 404, 422), (role, response.status_code)
        else:
            assert response.status_code == 403 and response.mimetype == "application/problem+json", role
