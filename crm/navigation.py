"""The navigation's main links, rendered once per role, language and mount point.

The links are the same on every page a role sees in one language (templates/nav_links.html uses the role and
the translations only), and rendering their twenty url_for and gettext calls was a tenth of a list page. The
rendered fragment is kept per (role, language, script root) for the life of the app: nothing in it can go stale
while the app runs (the routes and catalogues are loaded at start)."""

from flask import current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from crm.locales import active_language

_CACHE = "crm.navigation_links"
_MOST = 64  # 4 roles x 4 languages x a mount point or two


def navigation_links() -> Markup:
    key = (current_user.role, active_language(), request.script_root)
    rendered = current_app.extensions.setdefault(_CACHE, {})
    html = rendered.get(key)
    if html is None:
        if len(rendered) >= _MOST:  # the server sets the script root, but nothing a request sends may grow this
            rendered.clear()
        # render_template's output is autoescaped HTML (labels and URLs only): Markup keeps it from a second escape.
        html = rendered[key] = Markup(render_template("nav_links.html"))
    return html
