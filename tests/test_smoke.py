def test_manager_sees_orders_after_login(auth, client, make, session):
    auth.login("manager")
    order = make.order()
    session.commit()
    page = client.get(f"/orders/{order.id}")
    assert page.status_code == 200
    assert order.number in page.get_data(as_text=True)


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
