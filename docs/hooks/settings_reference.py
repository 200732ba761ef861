"""MkDocs hook: the configuration page's tables, generated from the settings themselves.

Writing the variables by hand would let the page drift from the code; generating them makes
`settings.GROUPS` the single source, as `.env.example` is checked against it by a test.
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from advanced_mlops.settings import GROUPS, variable_names

MARKER = "<!-- settings-reference -->"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "(computed)"
    if field.default is PydanticUndefined or field.default is None:
        return "unset"
    return f"`{field.default}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_tables() -> str:
    """One table per settings group: variable, default, what it does."""
    sections = []
    for name, group in GROUPS.items():
        doc = (group.__doc__ or "").strip().splitlines()[0]
        rows = [
            f"| `{variable}` | {_default(field)} | {_cell(field.description or '')} |"
            for variable, field in zip(
                variable_names(group), group.model_fields.values(), strict=True
            )
        ]
        sections.append(
            "\n".join(
                [f"### {name}", "", doc, "", "| variable | default | |", "|---|---|---|", *rows]
            )
        )
    return "\n\n".join(sections)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace the marker, where a page holds one, by the generated tables."""
    return markdown.replace(MARKER, settings_tables()) if MARKER in markdown else markdown
