"""The committed schema.graphql is the schema the code builds, so clients can diff it."""

from __future__ import annotations

from pinzhi.schema import schema
from pinzhi.settings import PROJECT_ROOT

SCHEMA_FILE = PROJECT_ROOT / "schema.graphql"


def test_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.exists(), "schema.graphql is missing: run `pinzhi export-schema`"
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == str(schema) + "\n", (
        "schema.graphql is out of date with the code: run `pinzhi export-schema` and commit it"
    )


def test_schema_has_the_roots_and_the_node_interface() -> None:
    sdl = str(schema)
    for fragment in ("type Query {", "type Mutation {", "interface Node {", "enum ErrorCode {"):
        assert fragment in sdl
