"""Engine tests: facts registered for tests only (`test.*`), read from a dict per subject."""

from __future__ import annotations

from typing import Any

from xenlint.facts import Subject, fact

TEST_FACTS = ("test.config", "test.files", "test.version", "test.release", "test.rpmver",
              "test.count", "test.absent", "test.packages")


def _from_meta(name: str) -> Any:
    def get(subject: Subject) -> object:
        art = subject.artifact
        return None if art is None else art.meta.get(name)
    get.__doc__ = f"Test-only fact {name}, read from artifact.meta."
    return get


for _name in TEST_FACTS:
    fact(_name)(_from_meta(_name))


class FakeSubject:
    """Just enough of a Subject for condition tests: facts from a dict, None when absent."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> object:
        return self.values.get(name)
