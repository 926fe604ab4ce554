"""The apps are layers: an import never goes back up, not even inside a function.

wwt_project.pages, wwt_project.urls   pages that compose several apps; nothing imports them
clustering                            similar workflows, prediction (reads errors and actions)
errors | actions                      beside each other: neither imports the other
workflows | accounts                  workflows, steps, sites, outside sources; users
wwt_project (the rest)                shared infrastructure: config, locks, schedules, error pages
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("wwt_project", "accounts", "workflows", "errors", "actions", "clustering")
# The composition root may import anything; its modules are listed by dotted prefix.
TOP = ("wwt_project.pages", "wwt_project.urls", "wwt_project.settings", "wwt_project.celery")
RANK = {"wwt_project": 0, "accounts": 1, "workflows": 1, "errors": 2, "actions": 2, "clustering": 3}


def _layer(module: str) -> tuple[str, int]:
    """(layer name, rank) of a dotted module name inside the project."""
    # The package's __init__ only starts the Celery app, as Celery's Django guide does.
    if module == "wwt_project" or module.startswith(TOP):
        return "top", 9
    app = module.split(".")[0]
    return app, RANK[app]


def _module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every project import in the file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this file's package
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base == "wwt_project":  # `from wwt_project import progress` names a module
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return [(line, name) for line, name in found if name.split(".")[0] in APPS]


def _project_files(root: Path):
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def upward_imports(root: Path = ROOT) -> list[str]:
    """Every import of a layer above, or of another app of the same layer, as `file:line`."""
    problems = []
    for path in _project_files(root):
        module = _module_name(path, root)
        here, rank = _layer(module)
        for line, imported in _imports(path, module):
            there, other_rank = _layer(imported)
            if there == here:
                continue
            if other_rank > rank or (other_rank == rank and there != here):
                problems.append(f"{path.relative_to(root)}:{line} ({here}) imports {imported} ({there})")
    return problems


def test_no_app_imports_a_layer_above_or_beside_it():
    assert upward_imports() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from errors.models import ErrorCount\n", "imports errors.models"),
        ("def f():\n    from actions import forms\n", "imports actions"),
        ("import clustering.services\n", "imports clustering.services"),
    ],
)
def test_the_check_catches_an_import_going_up(tmp_path, source, expected):
    # A module of the bottom layer importing upward, inside a function too, is reported.
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "bad.py").write_text(source)
    problems = upward_imports(tmp_path)
    assert len(problems) == 1 and expected in problems[0]


def test_errors_and_actions_may_not_import_each_other(tmp_path):
    (tmp_path / "errors").mkdir()
    (tmp_path / "errors" / "views.py").write_text("from actions.models import Action\n")
    assert upward_imports(tmp_path) == ["errors/views.py:1 (errors) imports actions.models (actions)"]
