"""The navigation's main links are rendered once per role, language and mount point (crm/navigation.py): each
role still sees its own links, whoever was served first, and a shop mounted under a prefix gets prefixed links."""

import re

from crm.navigation import _CACHE

MANAGER_ONLY = ("/audit", "/staff", "/webhooks", "/feedback")


def nav_links(html: str) -> list[str]:
    links = re.search(r'<ul class="navbar-nav me-auto">(.*?)</ul>', html, re.S).group(1)
    return re.findall(r'class="nav-link" href="([^"]+)"', links)


def test_each_role_sees_its_own_links_whoever_came_first(app, client, auth):
    auth.login("technician")
    technician = nav_links(client.get("/orders").get_data(as_text=True))
    auth.logout()
    auth.login("manager")
    manager = nav_links(client.get("/orders").get_data(as_text=True))
    auth.logout()
    auth.login("technician")
    again = nav_links(client.get("/customers").get_data(as_text=True))

    assert technician == again and "/orders/queue" in technician and "/sales" not in technician
    assert not [link for link in technician if link.startswith(MANAGER_ONLY)]
    assert all(any(link.startswith(prefix) for link in manager) for prefix in MANAGER_ONLY)
    assert "/orders/queue" in manager and "/reports/my-results" not in manager and "/reports/my-results" in technician


def test_the_kept_fragment_is_what_a_fresh_rendering_gives(app, client, auth):
    auth.login("front_desk")
    kept = client.get("/orders").get_data(as_text=True)
    app.extensions[_CACHE].clear()
    fresh = client.get("/orders").get_data(as_text=True)
    assert nav_links(kept) == nav_links(fresh) and "/sales" in nav_links(fresh)


def test_a_shop_mounted_under_a_prefix_gets_prefixed_links(app, client, auth):
    auth.login("front_desk")
    plain = nav_links(client.get("/orders").get_data(as_text=True))
    mounted = nav_links(client.get("/orders", environ_overrides={"SCRIPT_NAME": "/crm"}).get_data(as_text=True))
    assert mounted == ["/crm" + link for link in plain]
