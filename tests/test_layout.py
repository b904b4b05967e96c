"""The shape of the code (docs/architecture.md): modules depend one way, nobody reaches another module's private
names, files stay small. Read from the source, so a new import the wrong way fails here, not in review."""

import ast
from pathlib import Path

CRM = Path(__file__).resolve().parent.parent / "crm"

# Each package and the packages it may import. Shared single-file modules (crm/money.py, crm/locales.py, ...)
# may be imported by every package; the application shell (crm/__init__.py, cli, demo, main) may import all.
MAY_IMPORT = {
    "auth": set(),
    "notifications": {"auth"},
    "webhooks": {"auth", "notifications"},  # the services below call crm.webhooks.events; it imports none of them
    "customers": {"auth", "notifications"},
    "loyalty": {"auth", "customers", "notifications", "webhooks"},
    "catalogue": {"auth"},
    "orders": {"auth", "catalogue", "customers", "loyalty", "notifications", "webhooks"},
    "sales": {"auth", "catalogue", "customers", "loyalty", "notifications", "orders", "webhooks"},
    "feedback": {"auth", "customers", "notifications", "orders"},
    "reports": {"auth", "feedback", "loyalty", "orders", "sales"},
    "api": {"auth", "catalogue", "customers", "loyalty", "orders", "sales"},
    "privacy": {"auth", "customers", "feedback", "loyalty", "notifications", "orders", "reports", "sales"},
    "backup": set(),
}
PACKAGES = set(MAY_IMPORT)
MAX_LINES = 400


def _imports(path: Path):
    """(module imported, names imported) for every `from crm... import ...` in the file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "crm":
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("crm."):
                    yield alias.name, []


def _package(path: Path) -> str | None:
    relative = path.relative_to(CRM).parts
    return relative[0] if len(relative) > 1 else None


def _imported_packages(module: str, names: list[str]) -> set[str]:
    parts = module.split(".")
    if len(parts) > 1:
        return {parts[1]} & PACKAGES
    return set(names) & PACKAGES  # "from crm import orders"


def test_every_package_is_listed():
    assert {p.name for p in CRM.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == PACKAGES


def test_modules_import_only_the_modules_below_them():
    wrong = []
    for path in sorted(CRM.rglob("*.py")):
        package = _package(path)
        if package is None:
            continue
        for module, names in _imports(path):
            for other in _imported_packages(module, names) - {package} - MAY_IMPORT[package]:
                wrong.append(f"{path.relative_to(CRM.parent)} imports crm.{other}")
    assert not wrong, "\n".join(wrong)


def test_no_module_reaches_another_modules_private_names():
    wrong = []
    for path in sorted(CRM.rglob("*.py")):
        own = path.relative_to(CRM.parent).with_suffix("").as_posix().replace("/", ".")
        for module, names in _imports(path):
            if module != own:
                wrong += [f"{own} imports {module}.{name}" for name in names if name.startswith("_")]
    assert not wrong, "\n".join(wrong)


def test_files_stay_small():
    long = {str(p.relative_to(CRM.parent)): n for p in CRM.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these by concept (docs/architecture.md): {long}"
