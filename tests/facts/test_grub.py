"""The grub.cfg reader behind the root rules: entries, loaders, and the default entry."""

from __future__ import annotations

from xenlint.facts import grub as g

CFG = """\
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
else
   set default="${saved_entry}"
fi
menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple' {
	linux	/boot/vmlinuz-6.1 root=/dev/sda1 ro
	initrd	/boot/initrd.img-6.1
}
submenu 'Advanced options' $menuentry_id_option 'adv' {
	menuentry "Debian, with Xen 4.17 and Linux 6.1" --id 'xen-6.1' {
		echo	'Loading Xen ...'
		multiboot2	/boot/xen-4.17-amd64.gz placeholder dom0_mem=2G
		module2	/boot/vmlinuz-6.1 placeholder root=/dev/sda1
		module2	--nounzip   /boot/initrd.img-6.1
	}
	menuentry 'Xen EFI' {
		chainloader /EFI/debian/xen-4.17-amd64.efi
	}
}
menuentry 'unbalanced 'quote {
	multiboot /xen.gz
}
"""


def test_entries_and_what_they_load() -> None:
    cfg = g.parse(CFG)
    titles = [e.title for e in cfg.entries]
    assert titles[:3] == ["Debian GNU/Linux", "Debian, with Xen 4.17 and Linux 6.1", "Xen EFI"]
    linux, xen, efi = cfg.entries[:3]
    assert linux.hypervisor is None
    assert xen.hypervisor == "/boot/xen-4.17-amd64.gz"
    assert xen.modules == ["/boot/vmlinuz-6.1", "/boot/initrd.img-6.1"]
    assert xen.parents == ("Advanced options",) and xen.ids == ("xen-6.1",)
    assert efi.hypervisor == "/EFI/debian/xen-4.17-amd64.efi"
    assert cfg.entries[3].hypervisor == "/xen.gz"  # a broken quote still reads as words
    assert [t for t, _ in cfg.top][:2] == ["Debian GNU/Linux", "Advanced options"]


def test_default_values() -> None:
    cfg = g.parse(CFG)
    xen = cfg.entries[1]
    for value in ("1>0", "Advanced options>Debian, with Xen 4.17 and Linux 6.1", "xen-6.1",
                  "adv>xen-6.1", "Debian, with Xen 4.17 and Linux 6.1"):
        assert g.default_entry(cfg, value) is xen, value
    assert g.default_entry(cfg, "0") is cfg.entries[0]
    assert g.default_entry(cfg, "1") is None  # a submenu boots nothing by itself
    assert g.default_entry(cfg, "9") is None
    assert g.default_entry(cfg, "no such title") is None


def test_the_lasting_default_is_chosen() -> None:
    cfg = g.parse(CFG)
    # grub-reboot's one-time next_entry is not the lasting default
    assert g.chosen_default(cfg, {"saved_entry": "xen-6.1"}) == ("xen-6.1",
                                                                  "saved_entry in grubenv")
    assert g.chosen_default(cfg, None) == ("0", "no saved_entry in grubenv: the first entry")
    assert g.chosen_default(g.parse("menuentry 'a' {\n}\n"), None)[0] == "0"  # type: ignore[index]
    assert g.chosen_default(g.parse('set default="${other}"\n'), None) is None
    assert g.grubenv("# GRUB Environment Block\nsaved_entry=a>b\n####\n") == {"saved_entry": "a>b"}


def test_grub_default_reads_a_cfg_without_set_default() -> None:
    cfg = g.parse("menuentry 'a' {\n}\nmenuentry 'b' {\n}\n")
    conf = g.grub_default(["GRUB_DEFAULT=0\n", "# GRUB_DEFAULT=x\nGRUB_DEFAULT='b'\n"])
    assert conf == "b"
    assert g.chosen_default(cfg, None, conf) == ("b", "GRUB_DEFAULT in /etc/default/grub")
    # Debian's xen.cfg computes it in the shell: only booting would tell
    shell = g.grub_default(['GRUB_DEFAULT=$(printf "%s, with Xen" "$GRUB_DISTRIBUTOR")\n'])
    assert shell is not None and g.chosen_default(cfg, None, shell) is None
    assert g.chosen_default(cfg, {"saved_entry": "b"}, "saved") == ("b", "saved_entry in grubenv")
    # a grub.cfg's own `set default=` wins over what /etc/default/grub says
    own = g.parse('set default="a"\n')
    assert g.chosen_default(own, None, "b") == ("a", "set default= in grub.cfg")
