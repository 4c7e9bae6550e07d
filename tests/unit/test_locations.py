"""One-line descriptions of validation errors (edgesla.locations.describe_errors)."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import AfterValidator, ValidationError

from edgesla.locations import describe_errors
from edgesla.strict import Strict


def _lower(name: str) -> str:
    if name != name.lower():
        raise ValueError(f"{name!r} must be lower case")
    return name


class _Item(Strict):
    count: int


class _Doc(Strict):
    items: tuple[_Item, ...]
    names: dict[Annotated[str, AfterValidator(_lower)], int]


def _errors(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _Doc.model_validate(data)
    return info.value


def test_unknown_and_missing_keys_of_one_object_are_one_entry() -> None:
    exc = _errors({"items": [{"count": 1}, {"cuont": 2}], "colour": "red"})
    assert describe_errors(exc) == (
        "items[1]: unknown keys ['cuont'], missing keys ['count']; "
        "unknown keys ['colour'], missing keys ['names']"
    )


def test_a_bad_dict_key_is_located_at_the_key_in_pydantics_words_or_ours() -> None:
    exc = _errors({"items": [], "names": {"Bad": 1, "ok": "x"}})
    assert describe_errors(exc) == (
        "names.Bad: 'Bad' must be lower case; "
        "names.ok: Input should be a valid integer, unable to parse string as an integer"
    )
    assert describe_errors(exc, lambda err: err["type"]) == (
        "names.Bad: value_error; names.ok: int_parsing"
    )
