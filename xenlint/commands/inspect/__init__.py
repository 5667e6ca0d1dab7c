"""`xenlint inspect PATH...`: print what the readers see, as text or JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from xenlint.artifact import Artifact, Package
from xenlint.cli import limit_options, limits_from, main
from xenlint.commands.inspect.kernel_view import detail_lines
from xenlint.commands.inspect.view import artifact_to_dict
from xenlint.finding import EXIT_ERROR, EXIT_OK
from xenlint.readers import read_path


def _evr(pkg: Package) -> str:
    """The version as the package's own tools print it (RPM: [epoch:]version-release)."""
    if pkg.flavor != "rpm":
        return pkg.version
    epoch = f"{pkg.epoch}:" if pkg.epoch not in (None, "", "0") else ""
    return f"{epoch}{pkg.version}-{pkg.release}" if pkg.release else f"{epoch}{pkg.version}"


def _text(art: Artifact, indent: str = "") -> list[str]:
    lines = [f"{indent}{art.path} [{art.kind.value}]"]
    if art.error:
        lines.append(f"{indent}  error: {art.error}")
    pkg = art.package
    if pkg:
        lines.append(f"{indent}  package: {pkg.name} {_evr(pkg)} {pkg.architecture}")
        for label in ("pre_depends", "depends", "recommends", "suggests", "provides",
                      "conflicts", "breaks", "triggers", "conffiles"):
            vals = getattr(pkg, label)
            if vals:
                lines.append(f"{indent}  {label.replace('_', '-')}: {', '.join(vals)}")
        if pkg.scripts:
            scripts = [f"{n} ({pkg.interpreters[n]})" if n in pkg.interpreters else n
                       for n in sorted(pkg.scripts)]
            lines.append(f"{indent}  scripts: {', '.join(scripts)}")
        if pkg.payload_compression:
            lines.append(f"{indent}  payload compression: {pkg.payload_compression}")
    if art.entries:
        lines.append(f"{indent}  files: {len(art.files)}")
    for slot, info in (("kernel", art.kernel), ("module", art.module),
                       ("initramfs", art.initramfs), ("iso", art.iso)):
        if info is not None:
            brief = {k: v for k, v in info.to_json().items() if not isinstance(v, (list, dict))}
            lines.append(f"{indent}  {slot}: {json.dumps(brief)}")
    if art.hypervisor is not None:
        brief = {k: v for k, v in art.hypervisor.to_json().items() if k != "config"}
        lines.append(f"{indent}  hypervisor: {json.dumps(brief)}")
        if art.hypervisor.config is not None:
            lines.append(f"{indent}  hypervisor config: {len(art.hypervisor.config)} options")
    lines.extend(f"{indent}  {line}" for line in detail_lines(art))
    if art.config:
        lines.append(f"{indent}  config: {len(art.config)} options")
    for child in art.children:
        lines.extend(_text(child, indent + "  "))
    return lines


@main.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@limit_options
def inspect_cmd(paths: tuple[str, ...], fmt: str, **kwargs: Any) -> None:
    """Print the facts the readers find in each PATH."""
    limits = limits_from(kwargs)
    artifacts = [a for p in paths for a in read_path(p, limits)]
    if fmt == "json":
        json.dump({"artifacts": [artifact_to_dict(a) for a in artifacts]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for art in artifacts:
            click.echo("\n".join(_text(art)))
    failed = [e for a in artifacts for e in a.read_errors()]
    for path, msg in failed:
        click.echo(f"xenlint: {path}: {msg}", err=True)
    sys.exit(EXIT_ERROR if failed else EXIT_OK)
