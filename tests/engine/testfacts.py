"""Engine tests: facts registered for tests only (`test.*`), given per artifact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xenlint.artifact import Artifact
from xenlint.facts import Subject, fact

TEST_FACTS = ("test.config", "test.files", "test.version", "test.release", "test.rpmver",
              "test.count", "test.absent", "test.packages")


@dataclass(slots=True)
class GivenArtifact(Artifact):
    """An artifact that carries the values of the test facts for its subject."""

    given: dict[str, Any] = field(default_factory=dict)


def _given(name: str) -> Any:
    def get(subject: Subject) -> object:
        art = subject.artifact
        return art.given.get(name) if isinstance(art, GivenArtifact) else None
    get.__doc__ = f"Test-only fact {name}, given by a GivenArtifact."
    return get


for _name in TEST_FACTS:
    fact(_name)(_given(_name))


class FakeSubject:
    """Just enough of a Subject for condition tests: facts from a dict, None when absent."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> object:
        return self.values.get(name)
