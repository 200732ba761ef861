"""The documentation's generated configuration page lists every variable the settings read."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from advanced_mlops.settings import GROUPS, variable_names

HOOK = Path(__file__).parents[2] / "docs" / "hooks" / "settings_reference.py"


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("settings_reference", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_variable_is_on_the_configuration_page() -> None:
    tables = _hook().settings_tables()
    for group in GROUPS.values():
        for name in variable_names(group):
            assert f"`{name}`" in tables, name


def test_the_marker_is_replaced_only_where_a_page_holds_it() -> None:
    hook = _hook()
    page = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    assert hook.MARKER in page
    rendered = hook.on_page_markdown(page)
    assert hook.MARKER not in rendered
    assert "MLOPS_DB_URL" in rendered
    assert hook.on_page_markdown("# no marker") == "# no marker"


def test_the_readme_opens_with_the_two_commands_and_links_only_existing_pages() -> None:
    root = Path(__file__).parents[2]
    readme = (root / "README.md").read_text()
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    assert "uv run mlops demo" in first_block
    assert "uv run --extra airflow pytest" in first_block
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [target for target in targets if not target.startswith("http")]
    assert local, "the README links into docs/"
    missing = [target for target in local if not (root / target).exists()]
    assert not missing, missing
