"""The family name a salutation uses, from names as members type them."""

import pytest

from members.domain.names import family_name


@pytest.mark.parametrize(("name", "expected"), [
    ("张伟", "张"),
    ("王小明", "王"),
    ("欧阳娜娜", "欧阳"),
    ("司马懿", "司马"),
    ("欧阳", "欧"),  # a two-character name is a family name and a given name
    (" 李 雷 ", "李"),
    ("John Smith", "Smith"),
    ("Anna Maria Lopez", "Lopez"),
    ("Madonna", "Madonna"),
    ("", None),
    ("   ", None),
])
def test_family_name(name: str, expected: str | None) -> None:
    assert family_name(name) == expected
