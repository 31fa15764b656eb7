"""The shipped catalog loads cleanly with its examples, and broken files are reported with file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.catalog import CATALOG_DIR, CatalogError, catalog_files, load_catalog
from rules.catalog_schema import Category

OPENAI = CATALOG_DIR / "openai.yaml"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


TOOL = """\
schema: shadowscope/catalog/v1
tools:
  - id: {id}
    name: Example AI
    vendor: Example Inc
    kind: consumer_app
    category: chat_assistant
    suffixes: [{domain}]
examples:
  match: {{{domain}: {id}}}
  no_match: [not{domain}]
"""


def test_the_shipped_catalog_loads_and_every_file_s_examples_hold() -> None:
    catalog = load_catalog()

    assert len(catalog.files) == len(catalog_files())
    assert catalog.lookup("files.oaiusercontent.com").value.tool.id == "openai-chatgpt"  # type: ignore[union-attr]


def test_the_shipped_catalog_covers_many_tools_across_categories() -> None:
    catalog = load_catalog()
    categories = {entry.tool.category for entry in catalog.tools.values()}

    assert len(catalog) >= 300
    assert len(categories) >= len(Category) - 2


def test_every_known_fact_has_a_source_and_date() -> None:
    for entry in load_catalog().tools.values():
        for name, fact in entry.tool.facts:
            if fact.known:
                assert fact.source is not None, f"{entry.tool.id}.{name}"
                assert fact.as_of is not None, f"{entry.tool.id}.{name}"


def test_when_a_file_is_invalid_then_every_problem_names_file_and_field(tmp_path: Path) -> None:
    broken = write(
        tmp_path,
        "broken.yaml",
        """\
schema: shadowscope/catalog/v1
tools:
  - id: good-tool
    name: Good
    vendor: V
    kind: consumer_app
    category: chat_assistant
    suffixes: [good.example]
  - id: Bad_Id
    name: Bad
    vendor: V
    kind: desktop
    category: chat_assistant
    suffixes: [Bad.Example]
    facts:
      soc2: {value: true}
examples:
  match: {good.example: good-tool}
  no_match: [bad.example]
""",
    )

    with pytest.raises(CatalogError) as caught:
        load_catalog([broken])

    text = str(caught.value)
    assert f"{broken}:tools[1](Bad_Id).id:" in text
    assert f"{broken}:tools[1](Bad_Id).kind:" in text
    assert f"{broken}:tools[1](Bad_Id).suffixes[0]:" in text
    assert f"{broken}:tools[1](Bad_Id).facts.soc2:" in text
    assert "needs its source and as_of" in text


def test_when_yaml_repeats_a_key_then_it_is_an_error_not_an_overwrite(tmp_path: Path) -> None:
    text = TOOL.format(id="dup-key", domain="dupkey.example").replace(
        "    name: Example AI\n", "    name: A\n    name: B\n"
    )
    path = write(tmp_path, "dupkey.yaml", text)

    with pytest.raises(CatalogError, match="duplicate key 'name'"):
        load_catalog([path])


def test_when_two_files_claim_the_same_id_or_name_then_both_are_reported(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", TOOL.format(id="same-tool", domain="same.example"))
    second = write(tmp_path, "b.yaml", TOOL.format(id="same-tool", domain="other.example"))
    third = write(tmp_path, "c.yaml", TOOL.format(id="third-tool", domain="same.example"))

    with pytest.raises(CatalogError) as caught:
        load_catalog([first, second, third])

    text = str(caught.value)
    assert f"{second}:tools[0](same-tool).id: duplicate id, first in {first}" in text
    assert f"{third}:tools[0](third-tool).suffixes[0]: same.example already belongs to same-tool" in text


def test_when_a_tool_claims_a_shared_platform_then_it_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "greedy.yaml", TOOL.format(id="greedy-ai", domain="google.com"))

    with pytest.raises(CatalogError, match=r"google\.com is a shared platform"):
        load_catalog([path])


def test_when_an_example_fails_then_it_is_reported(tmp_path: Path) -> None:
    text = TOOL.format(id="ex-tool", domain="ex.example").replace(
        "no_match: [notex.example]", "no_match: [a.ex.example]"
    )
    path = write(tmp_path, "ex.yaml", text)

    with pytest.raises(CatalogError, match=r"examples\.no_match\[a\.ex\.example\]: resolves to ex-tool"):
        load_catalog([path])


def test_when_an_overlay_adds_and_replaces_tools_then_it_takes_precedence(tmp_path: Path) -> None:
    overlay = write(
        tmp_path,
        "ours.yaml",
        """\
schema: shadowscope/catalog/v1
tools:
  - id: openai-chatgpt
    name: ChatGPT (our tenant)
    vendor: OpenAI
    kind: enterprise_tier
    category: chat_assistant
    suffixes: [chatgpt.com]
  - id: acme-internal-llm
    name: ACME internal LLM gateway
    vendor: ACME
    kind: api
    category: model_hosting_and_api_gateways
    exact: [llm.acme.internal]
    suffixes: [oaiusercontent.com]
examples:
  match: {chatgpt.com: openai-chatgpt, llm.acme.internal: acme-internal-llm, x.oaiusercontent.com: acme-internal-llm}
  no_match: [acme.internal]
""",
    )

    catalog = load_catalog([OPENAI], overlays=[overlay])

    chatgpt = catalog.lookup("chatgpt.com")
    assert chatgpt is not None
    assert chatgpt.value.tool.kind == "enterprise_tier"
    assert chatgpt.value.overlay
    assert catalog.lookup("chat.openai.com") is None, "replaced tool's names go with it"
    assert catalog.lookup("llm.acme.internal").value.tool.id == "acme-internal-llm"  # type: ignore[union-attr]
    assert catalog.lookup("api.openai.com").value.tool.id == "openai-api"  # type: ignore[union-attr]


def test_when_an_overlay_repeats_an_id_within_itself_then_it_is_an_error(tmp_path: Path) -> None:
    one = write(tmp_path, "one.yaml", TOOL.format(id="ours", domain="ours.example"))
    two = write(tmp_path, "two.yaml", TOOL.format(id="ours", domain="ours2.example"))

    with pytest.raises(CatalogError, match="duplicate id"):
        load_catalog([OPENAI], overlays=[one, two])


def test_when_yaml_is_malformed_then_the_line_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "schema: [unclosed\ntools: 1\n")

    with pytest.raises(CatalogError, match=r"bad.yaml:line \d+:"):
        load_catalog([path])
