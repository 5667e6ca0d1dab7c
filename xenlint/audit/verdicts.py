"""Package-set verdicts: lint one group with the engine `check` uses, and remember the
report of a group whose inputs, options, configuration and rules have not changed."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xenlint.artifact import Artifact
from xenlint.audit import codec
from xenlint.audit.cache import Cache
from xenlint.audit.model import Group, WorkItem
from xenlint.engine import overrides
from xenlint.finding import Report

if TYPE_CHECKING:
    from xenlint.engine.config import Config
    from xenlint.engine.lint import LintOptions
    from xenlint.engine.rulebook import Rule


@dataclass(frozen=True, slots=True)
class Rules:
    """What `check` decides once per run: the configuration and the rules."""

    config: Config
    known: list[Rule]
    selected: list[Rule]

    @classmethod
    def load(cls, options: LintOptions, config: Config | None = None) -> Rules:
        """Raises lint.LintError on a broken configuration, rule file or selection."""
        from xenlint.engine import lint

        config = lint.config_for(options) if config is None else config
        known = lint.all_rules(options, config)
        return cls(config, known, lint.select_rules(options, config, known))

    @property
    def facts(self) -> frozenset[str]:
        """Names of the registered facts the selected rules use."""
        from xenlint.facts import resolve

        found = (resolve(name) for rule in self.selected for name in rule.facts)
        return frozenset(spec.name for spec, _keys in (f for f in found if f is not None))


def lint_group(artifacts: list[Artifact], options: LintOptions, rules: Rules,
               label: str, parts: int = 1, context: Sequence[Artifact] = (),
               arch: str = "") -> Report:
    """`lint_artifacts`, but given the group's own input label, as `check DIR` passes the
    directory: the package-set subject is named after it and `xenlint-overrides` is
    looked for beside it. The rulebook is loaded once per audit, not per group. A big
    group is linted in up to `parts` processes (shards.py). `context`: the --with-repo
    packages the group reaches. `arch` names the machine architecture of a repository's
    set (its package-set subject says it)."""
    from xenlint.audit.shards import evaluate_in_parts
    from xenlint.engine import lint

    return lint.lint_selected(artifacts, options, rules.config, (rules.known, rules.selected),
                              [label], functools.partial(evaluate_in_parts, parts=parts),
                              context=context, set_arch=arch)


def key(group: Group, shas: dict[WorkItem, str | None], options: LintOptions,
        rules: Rules, cache: Cache, context: str = "") -> str | None:
    """A digest of everything the group's report depends on, or None if some input's
    content is not known yet (a new or changed file: it must be read first). `context`
    stamps the --with-repo indexes (context.stamp)."""
    h = hashlib.sha256()
    h.update(f"{cache.salt}\0{options!r}\0{rules.config!r}\0{group.label}\0{context}\0"
             f"{group.arch}\0"
             .encode())
    for path in (options.overrides_file, *overrides.beside([group.label])):
        if path is not None:
            try:
                h.update(Path(path).read_bytes())
            except OSError:
                return None
    for item in group.items:
        sha = shas.get(item)
        if sha is None:
            return None
        # the hash an index claims too: a mismatch is part of the verdict
        h.update(f"{item.display}\0{sha}\0{item.sha256}\0{item.required}\0".encode())
    # header-only packages are products of the index files, hashed by value as the cache
    # stores them (a pickle would differ between a parse and its cached copy, whose
    # strings pickle does not find shared)
    h.update(codec.pack([codec.encode_artifact(a) for a in group.metadata]))
    return h.hexdigest()
