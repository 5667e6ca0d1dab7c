"""Unit tests of the domain facts' parsing and set logic (the rules' fixtures test them end
to end; these pin the edge cases one by one)."""

from __future__ import annotations

import pytest

from xenlint.artifact import Artifact, Entry, EntryType, Kind, Package
from xenlint.facts import Run, udev
from xenlint.facts import packages as pk
from xenlint.facts import pkgset as ps
from xenlint.facts import scripts as sc


def pkg(name: str, version: str = "1.0-1", flavor: str = "deb", files: tuple[str, ...] = (),
        **rel: list[str]) -> Artifact:
    art = Artifact(f"{name}.{flavor}", Kind.DEB if flavor == "deb" else Kind.RPM,
                   package=Package(name, version, flavor=flavor, **rel))
    for f in files:
        art.entries[f] = Entry(f, EntryType.FILE, 0o755)
    return art


def names(arts: list[Artifact]) -> set[str]:
    return {a.package.name for a in arts if a.package}


@pytest.mark.parametrize(("text", "flavor", "expected"), [
    ("foo (>= 1.2) | bar", "deb", [ps.Alt("foo", ">=", "1.2"), ps.Alt("bar")]),
    ("python3:any (<< 3.12)", "deb", [ps.Alt("python3", "<", "3.12", "any")]),
    ("libc6 (>= 2.35) [amd64]", "deb", [ps.Alt("libc6", ">=", "2.35")]),
    ("xen-runtime >= 4.17.0-1", "rpm", [ps.Alt("xen-runtime", ">=", "4.17.0-1")]),
    ("libxenstore.so.4()(64bit)", "rpm", [ps.Alt("libxenstore.so.4()(64bit)")]),
])
def test_parse_relation(text: str, flavor: str, expected: list[ps.Alt]) -> None:
    assert ps.parse_relation(text, flavor) == expected


def test_versioned_provides_and_flavors() -> None:
    hv = pkg("xen-hypervisor-4.17-amd64", "4.17.7-1", provides=["xen-hypervisor-4.17 (= 4.17.7)",
                                                              "xen-hypervisor"])
    rpm_hv = pkg("xen-hypervisor", "4.18.0", "rpm", release="1")
    pset = ps.PackageSet.of(Run([hv, rpm_hv], [hv, rpm_hv]))
    assert names(pset.satisfiers("xen-hypervisor-4.17 (>= 4.17)", "deb")) == {hv.package.name}
    assert pset.satisfiers("xen-hypervisor-4.17 (>= 4.18)", "deb") == []
    # an unversioned Provides never satisfies a versioned relation
    assert pset.satisfiers("xen-hypervisor (>= 1)", "deb") == []
    # a .deb never satisfies an RPM Requires, nor the other way round
    assert names(pset.satisfiers("xen-hypervisor >= 4.17", "rpm")) == {"xen-hypervisor"}
    assert names(pset.satisfiers("xen-hypervisor", "deb")) == {hv.package.name}


def test_an_rpm_file_dependency_is_satisfied_by_the_packages_shipping_the_path() -> None:
    app = pkg("app", "1.0", "rpm", depends=["/usr/bin/xl"])
    tools = pkg("tools", "1.0", "rpm", files=("/usr/bin/xl",))
    compat = pkg("compat", "1.0", "rpm", files=("/usr/bin/xl", "/usr/bin/xm"))
    deb = pkg("deb-tools", files=("/usr/bin/xl",))  # a .deb never satisfies an RPM Requires
    dirs = pkg("dirs", "1.0", "rpm")
    dirs.entries["/usr/lib/xen"] = Entry("/usr/lib/xen", EntryType.DIRECTORY)
    arts = [app, tools, deb, compat, dirs]
    pset = ps.PackageSet.of(Run(arts, arts))
    assert pset.satisfiers("/usr/bin/xl", "rpm") == [tools, compat]  # in set order
    assert pset.satisfiers("/usr/bin/xm", "rpm") == [compat]
    assert pset.satisfiers("/usr/lib/xen", "rpm") == []  # a directory ships no file
    assert pset.closure(app) == [app, tools, compat]


def test_closure_follows_recommends_only_when_asked() -> None:
    meta = pkg("meta", depends=["tools"])
    tools = pkg("tools", depends=["common (>= 1.0)"], recommends=["qemu"])
    common = pkg("common", "1.0-1")
    qemu = pkg("qemu", "1:7.2")
    stray = pkg("stray")
    arts = [meta, tools, common, qemu, stray]
    pset = ps.PackageSet.of(Run(arts, arts))
    assert names(pset.closure(meta)) == {"meta", "tools", "common", "qemu"}
    assert names(pset.closure(meta, ps.HARD)) == {"meta", "tools", "common"}


def test_epoch_ordering_in_relations() -> None:
    tools = pkg("tools", recommends=["qemu-system-xen (>> 1:7.0)"])
    old = pkg("qemu-system-xen", "7.2")  # no epoch: older than 1:7.0
    pset = ps.PackageSet.of(Run([tools, old], [tools, old]))
    assert pset.closure(tools) == [tools]


def test_lsb_and_chkconfig_headers() -> None:
    text = ("#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          xen\n"
            "# Default-Start:     2 3 4 5\n### END INIT INFO\n")
    assert sc.lsb_header(text) == {"Provides": "xen", "Default-Start": "2 3 4 5"}
    assert sc.lsb_header("#!/bin/sh\n# chkconfig: 2345 70 10\n")["Default-Start"] == \
        "2 3 4 5"
    assert sc.lsb_header("#!/bin/sh\n# chkconfig: - 70 10\n") == {}


def test_unit_install_section() -> None:
    unit = "[Unit]\nDescription=x\n[Service]\nExecStart=/x\n[Install]\nWantedBy=multi-user.target\n"
    assert sc.unit_install(unit) == {"WantedBy": "multi-user.target"}
    assert sc.unit_install("[Unit]\nDescription=x\n") == {}


@pytest.mark.parametrize(("script", "expected"), [
    ("update-rc.d xen defaults >/dev/null || exit 1", {"xen"}),
    ("chkconfig --add xencommons", {"xencommons"}),
    ("deb-systemd-helper enable 'xenstored.service' >/dev/null || true", {"xenstored.service"}),
    ("deb-systemd-helper enable xenstored.service xenconsoled.service",
     {"xenstored.service", "xenconsoled.service"}),
    ("systemctl --no-reload preset xenstored.service &>/dev/null || :", {"xenstored.service"}),
    ("update-rc.d -f xen remove", set()),
])
def test_enabled_names(script: str, expected: set[str]) -> None:
    art = pkg("x", scripts={"postinst": script})
    assert sc.enabled_names(art) == expected


def test_bootloader_refresh_only_in_post_scripts() -> None:
    assert sc.refreshes_bootloader(pkg("a", scripts={"postinst": "update-grub || true"}))
    assert sc.refreshes_bootloader(pkg("b", flavor="rpm",
                                       scripts={"%post": "grub2-mkconfig -o /boot/grub2/x"}))
    assert not sc.refreshes_bootloader(pkg("c", scripts={"preinst": "update-grub"}))
    assert sc.preset_enables("# x\nenable xenstored.service\ndisable *\n") == \
        {"xenstored.service"}


def test_udev_parse_continuation_and_errors() -> None:
    rules = udev.parse('# c\nSUBSYSTEM=="xen-backend", \\\n  RUN+="/etc/xen/scripts/block add"\n'
                       'ATTR{state}=="offline", RUN{builtin}+="kmod load x"\n')
    assert udev.run_programs(rules) == ["/etc/xen/scripts/block"]
    assert rules[1][0] == udev.Pair("ATTR", "state", "==", "offline")
    with pytest.raises(ValueError, match="line 2, column 1"):
        udev.parse('A=="1"\nnot a rule\n')


def test_docs_and_man_pages() -> None:
    assert pk.is_xen_doc("/usr/share/doc/xen/html/index.html")
    assert pk.is_xen_doc("/usr/share/doc-base/xen-doc.xen-doc-html")
    assert not pk.is_xen_doc("/usr/share/doc/xen-utils-common/changelog.Debian.gz")
    assert not pk.is_xen_doc("/usr/share/doc/linux-image/html/index.html")
    pages = pk.man_pages([pkg("m", files=("/usr/share/man/man1/xenstore-read.1.gz",
                                          "/usr/share/man/man5/xl.cfg.5"))])
    assert pages == {"xenstore-read.1", "xl.cfg.5"}
    assert pk.has_man_page(pages, "xenstore-read")
    assert not pk.has_man_page(pages, "xenstore")
    assert not pk.has_man_page(pages, "xl")
    assert pk.has_man_page(pages, "xl.cfg")
    # the section is the part after the last dot: a digit, then letters or digits
    assert pk.man_page_commands({"python3.11.1", "perl.3pm", "odd.1.x", "README"}) == {
        "python3.11", "perl"}


def test_xen_meta_package_detection() -> None:
    doc_only = ("/usr/share/doc/xen-system-amd64/copyright",)
    assert pk.is_xen_meta(pkg("xen-system-amd64", files=doc_only))
    assert pk.is_xen_meta(pkg("virt-host", files=("/usr/share/doc/virt-host/copyright",),
                              depends=["xen-hypervisor-4.17-amd64"]))
    assert not pk.is_xen_meta(pkg("xen-doc", files=("/usr/share/doc/xen/html/index.html",)))
    assert not pk.is_xen_meta(pkg("linux-image-cloud-amd64",
                                  files=("/usr/share/doc/linux-image-cloud-amd64/copyright",)))
    assert not pk.is_xen_meta(pkg("xen-utils", files=("/usr/sbin/xl",)))
    # CentOS 7's xen-licenses: the %doc licence texts, no relations
    assert not pk.is_xen_meta(pkg("xen-licenses", files=(
        "/usr/share/doc/xen-licenses-4.8.0/COPYING",
        "/usr/share/doc/xen-licenses-4.8.0/tools/firmware/LICENSE")))


def test_path_status_follows_symlinks_across_packages() -> None:
    def art(*links: tuple[str, str | None]) -> Artifact:
        a = Artifact("x.deb", Kind.DEB)
        for path, target in links:
            kind = EntryType.SYMLINK if target else EntryType.FILE
            a.entries[path] = Entry(path, kind, 0o755, 0, target)
        return a

    qemu = art(("/usr/bin/qemu-system-i386", None))
    link = art(("/usr/lib/xen/bin/qemu-system-i386", "/usr/bin/qemu-system-i386"))
    want = "/usr/lib/xen/bin/qemu-system-i386"
    assert ps.path_status([link, qemu], want) is True
    assert ps.path_status([link], want) is None  # the target's package was not given
    assert ps.path_status([qemu], want) is False
    # a directory symlink on the way (Fedora's /usr/lib/xen -> /usr/libexec/xen)
    moved = art(("/usr/lib/xen", "../libexec/xen"),
                ("/usr/libexec/xen/bin/qemu-system-i386", None))
    assert ps.path_status([moved], want) is True
    assert ps.path_status([art(("/a", "/b"), ("/b", "/a"))], "/a") is False
