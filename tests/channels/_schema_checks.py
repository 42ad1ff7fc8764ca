"""Checks shared by the adapters whose payloads are documented by a JSON Schema of ours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError


def walk(node: Any) -> list[dict[str, Any]]:
    """Every schema object nested in ``node``."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(walk(value))
    return found


def closed_objects(*schemas: dict[str, Any]) -> set[tuple[frozenset[str], frozenset[str]]]:
    """(properties, required) of every object schema that refuses unknown fields."""
    return {
        (frozenset(node.get("properties", {})), frozenset(node.get("required", [])))
        for schema in schemas
        for node in walk(schema)
        if node.get("additionalProperties") is False
    }


def patterns(*schemas: dict[str, Any]) -> set[str]:
    """Every ``pattern`` in the schemas."""
    return {
        node["pattern"]
        for schema in schemas
        for node in walk(schema)
        if isinstance(node.get("pattern"), str)
    }


def string_constants(*schemas: dict[str, Any]) -> set[str]:
    """Every string ``const`` and ``enum`` member in the schemas."""
    found: set[str] = set()
    for schema in schemas:
        for node in walk(schema):
            if isinstance(node.get("const"), str):
                found.add(node["const"])
            found.update(v for v in node.get("enum", []) if isinstance(v, str))
    return found


def _error_paths(errors: list[Any]) -> set[str]:
    """The JSON paths of jsonschema errors and of their sub-errors (oneOf, anyOf)."""
    paths: set[str] = set()
    for error in errors:
        paths.add(".".join(str(part) for part in error.absolute_path))
        paths |= _error_paths(list(error.context or []))
    return paths


def check_documents_agree(
    schema: dict[str, Any],
    model: type[BaseModel],
    valid: Sequence[tuple[str, Any]],
    invalid: Sequence[tuple[str, Any, str, Any]],
) -> None:
    """Run the schema itself (jsonschema) and the models over the same documents."""
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name, document in valid:
        assert validator.is_valid(document), name
    for name, document, field, _ in invalid:
        errors = list(validator.iter_errors(document))
        assert errors, name
        # The schema faults the same field (or, for a missing one, its parent object).
        paths = _error_paths(errors)
        assert field in paths or field.rpartition(".")[0] in paths, (name, paths)
        with pytest.raises(ValidationError):
            model.model_validate(document)
