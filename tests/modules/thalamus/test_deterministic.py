"""The deterministic thalamus' retrieval queries: a request wrapped in unrelated context is also asked
about on its own."""

from __future__ import annotations

import pytest

from modules.thalamus.deterministic import instruction_queries

REQUEST = "put a clean apple in the fridge"


@pytest.mark.parametrize(
    "wrapped",
    [
        f"Although there is a mug in the cabinet, {REQUEST}.",
        f"{REQUEST.capitalize()}. Don't worry about the mug in the cabinet; it can stay where it is.",
        f"My guests are coming over soon and the place is a bit of a mess. {REQUEST.capitalize()}.",
        f"I was going to tidy up the cabinet myself, but first things first: {REQUEST}.",
    ],
)
def test_the_request_is_a_query_of_its_own(wrapped: str) -> None:
    queries = instruction_queries(wrapped)
    assert queries[0] == wrapped
    assert f"{REQUEST.capitalize()}." in queries[1:]
    assert len(queries) <= 3


@pytest.mark.parametrize(
    "plain",
    [
        "Put a mug in the sink.",
        "Wash a mug, then put it in a drawer.",
        "Rinse off a ladle and move it to the table.",
    ],
)
def test_a_plain_instruction_is_one_query(plain: str) -> None:
    assert instruction_queries(plain) == [plain]
