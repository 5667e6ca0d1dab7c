"""The small part of GRUB's script language that a generated grub.cfg uses for its menu:
`menuentry`/`submenu` blocks, the loader commands inside them, and `set default=`.

grub-mkconfig writes one command per line with shell quoting, so each line is split with
shlex; `if`/`fi` and other script lines are read for `set` commands only. Nothing is
evaluated: a `$variable` stays as written, except the `${saved_entry}` that a grubenv
answers.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# commands that load a hypervisor, and those that load the kernel and initrd after it
XEN_LOADERS = ("multiboot2", "multiboot", "xen_hypervisor")
MODULE_LOADERS = ("module2", "module", "xen_module")
_BLOCK = ("menuentry", "submenu")


@dataclass(slots=True)
class MenuEntry:
    title: str
    # the titles of enclosing submenus, outermost first
    parents: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    # (command, arguments) in order
    commands: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def hypervisor(self) -> str | None:
        """The hypervisor image the entry boots: the file of `multiboot2 /boot/xen...`
        (or multiboot, xen_hypervisor), or of `chainloader .../xen*.efi`."""
        for cmd, args in self.commands:
            files = [a for a in args if not a.startswith("-")]
            if cmd in XEN_LOADERS and files:
                return files[0]
            if cmd == "chainloader" and files and \
                    re.search(r"(?:^|/)xen[^/]*\.efi$", files[0], re.I):
                return files[0]
        return None

    @property
    def modules(self) -> list[str]:
        """The files `module2`/`module` load after the hypervisor: kernel, then initrd."""
        return [files[0] for cmd, args in self.commands if cmd in MODULE_LOADERS
                if (files := [a for a in args if not a.startswith("-")])]

    def path(self) -> str:
        return ">".join((*self.parents, self.title))


@dataclass(slots=True)
class GrubConfig:
    # entries in menu order, submenu members included; `top` indexes the top level
    entries: list[MenuEntry] = field(default_factory=list)
    # top-level menu positions: an entry, or a submenu's title with its members
    top: list[tuple[str, list[MenuEntry]]] = field(default_factory=list)
    # every `set default=` value, in file order
    defaults: list[str] = field(default_factory=list)


def _words(line: str) -> list[str]:
    try:
        lex = shlex.shlex(line, posix=True, punctuation_chars=False)
        lex.whitespace_split = True
        lex.commenters = "#"
        return list(lex)
    except ValueError:  # an unbalanced quote: take the line as plain words
        return line.split()


def parse(text: str) -> GrubConfig:
    cfg = GrubConfig()
    stack: list[tuple[str, MenuEntry | None]] = []  # ("submenu", None) or ("menuentry", e)
    for raw in text.splitlines():
        words = _words(raw.strip())
        if not words:
            continue
        if words[0] in _BLOCK and words[-1] == "{" and len(words) >= 3:
            title = words[1]
            ids = tuple(words[i + 1] for i, w in enumerate(words[:-2])
                        if w in ("--id", "$menuentry_id_option") and i + 1 < len(words) - 1)
            parents = tuple(e.title for kind, e in stack if kind == "submenu" and e)
            entry = MenuEntry(title, parents, ids)
            if words[0] == "submenu":
                stack.append(("submenu", entry))
                if not parents:
                    cfg.top.append((title, []))
            else:
                stack.append(("menuentry", entry))
                cfg.entries.append(entry)
                if not parents:
                    cfg.top.append((title, [entry]))
                elif cfg.top:
                    cfg.top[-1][1].append(entry)
            continue
        if words == ["}"]:
            if stack:
                stack.pop()
            continue
        inner = next((e for kind, e in reversed(stack) if kind == "menuentry"), None)
        if inner is not None:
            inner.commands.append((words[0], words[1:]))
        elif words[0] == "set" and len(words) == 2 and words[1].startswith("default="):
            cfg.defaults.append(words[1].split("=", 1)[1])
    return cfg


def grubenv(text: str) -> dict[str, str]:
    """grub-editenv's file: `key=value` lines padded with #."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v
    return out


def default_entry(cfg: GrubConfig, value: str) -> MenuEntry | None:
    """The entry a `default` value names: a top-level index (`2`), a path into a submenu
    (`1>2`, `Advanced options>Debian, with Xen`), a title or a menuentry id."""
    parts = value.split(">")
    if all(p.strip().isdigit() for p in parts):
        idx = [int(p) for p in parts]
        if not 0 <= idx[0] < len(cfg.top):
            return None
        members = cfg.top[idx[0]][1]
        if len(idx) == 1:
            # a submenu chosen as default boots nothing by itself
            return members[0] if len(members) == 1 and not members[0].parents else None
        return members[idx[1]] if 0 <= idx[1] < len(members) else None
    for e in cfg.entries:
        if value in (e.title, e.path()) or value in e.ids:
            return e
    if len(parts) > 1:
        return default_entry(cfg, parts[-1])
    return None


def grub_default(texts: list[str]) -> str | None:
    """GRUB_DEFAULT as /etc/default/grub and then /etc/default/grub.d/*.cfg set it (the
    last assignment wins, as the shell reads them), or None when none sets it."""
    value = None
    for text in texts:
        for line in text.splitlines():
            words = _words(line.strip())
            for w in words:
                if w.startswith("GRUB_DEFAULT="):
                    value = w.split("=", 1)[1]
    return value


def chosen_default(cfg: GrubConfig, env: dict[str, str] | None,
                   configured: str | None = None) -> tuple[str, str] | None:
    """(value, where it was read) for the entry GRUB boots by default; None when the
    default is a variable only known at boot.

    A `${next_entry}` default is a one-time boot that grub-reboot sets; the lasting
    default is the other `set default=` of the same `if`. A grub.cfg without one (not
    written by grub-mkconfig) is read with GRUB_DEFAULT (`configured`), when that is
    a plain value rather than a shell expansion."""
    lasting = [d for d in cfg.defaults if d not in ("${next_entry}", "$next_entry")]
    if not lasting and configured is not None and configured != "saved":
        if "$" in configured or "`" in configured:
            return None
        return configured, "GRUB_DEFAULT in /etc/default/grub"
    if not lasting and configured != "saved":
        return "0", "no `set default` in grub.cfg: the first entry"
    value = lasting[-1] if lasting else "${saved_entry}"
    if value in ("${saved_entry}", "$saved_entry"):
        # without a grubenv (or a saved_entry in it) the variable is empty, and GRUB
        # boots the first entry
        saved = (env or {}).get("saved_entry")
        return (saved, "saved_entry in grubenv") if saved else \
            ("0", "no saved_entry in grubenv: the first entry")
    if "$" in value:
        return None
    return value, "set default= in grub.cfg"
