"""Reports built by hand for the reporter tests: every kind of entry a reporter must show."""

from __future__ import annotations

from xenlint.finding import Finding, ReadError, Report, RuleInfo, Severity, Unknown

KERNEL_DEB = "pool/linux-image-6.1.0-13-amd64_6.1.55-1_amd64.deb"
INITRD = "images/initrd.img-6.1.0-13-amd64"
XEN_DEB = "pool/xen-utils-4.17_4.17.3-1_amd64.deb"
BROKEN = "pool/truncated_1.0_amd64.deb"


RULES = [
    RuleInfo("dom0-kernel-without-blkback", Severity.ERROR, ("dom0",), ("dom0-kernel",),
             summary="dom0 kernel lacks the Xen block backend",
             what="Checks that a dom0 kernel enables CONFIG_XEN_BLKDEV_BACKEND.",
             why="Without blkback dom0 cannot serve phy: disks.",
             fix="Set CONFIG_XEN_BLKDEV_BACKEND=m.",
             references=("https://wiki.xenproject.org/wiki/Mainline_Linux_Kernel_Configs",)),
    RuleInfo("initramfs-missing-xen-blkfront", Severity.WARNING, ("domu", "installer"),
             ("domu-initramfs",), summary="initramfs cannot reach a Xen disk",
             fix='add_drivers+=" xen-blkfront "'),
    RuleInfo("libxl-device-model-not-shipped", Severity.INFO, ("dom0",), ("dom0-toolstack",),
             summary="qemu for libxl is missing"),
]


def finding(rule: str, severity: Severity, artifact: str, location: str | None,
            message: str, profile: str = "dom0", **kw: object) -> Finding:
    return Finding(rule=rule, severity=severity, profile=profile, checklist=("dom0-kernel",),
                   artifact=artifact, location=location, message=message,
                   fix="Set CONFIG_XEN_BLKDEV_BACKEND=m.", **kw)  # type: ignore[arg-type]


def sample_report(root: str = "") -> Report:
    """Several findings (one nested, one suppressed), an unknown and a read error.

    `root` prefixes every artifact path, to show that where files sit changes no fingerprint.
    """
    kdeb, initrd, xdeb, broken = (root + p for p in (KERNEL_DEB, INITRD, XEN_DEB, BROKEN))
    return Report(
        findings=[
            finding("dom0-kernel-without-blkback", Severity.ERROR, kdeb,
                    f"{kdeb}!/boot/vmlinuz-6.1.0-13-amd64",
                    "kernel 6.1.0-13-amd64 is dom0-capable but CONFIG_XEN_BLKDEV_BACKEND is n"),
            finding("initramfs-missing-xen-blkfront", Severity.WARNING, initrd, None,
                    "initramfs has no xen-blkfront <module> & no builtin", profile="domu"),
            finding("initramfs-missing-xen-blkfront", Severity.WARNING, initrd, None,
                    "initramfs has no xen-blkfront <module> & no builtin",
                    profile="installer"),
            finding("libxl-device-model-not-shipped", Severity.INFO, xdeb,
                    "/usr/lib/x86_64-linux-gnu/libxenlight.so.4.17",
                    "libxl starts /usr/lib/xen/bin/qemu-system-i386 [not shipped]",
                    suppressed=True, suppression_reason="qemu comes from qemu-system-xen"),
        ],
        unknowns=[Unknown("initramfs-missing-xen-blkfront", "domu", xdeb, "initramfs.modules")],
        errors=[ReadError(broken, "truncated ar archive: member data.tar.xz ends early")],
        artifacts=[kdeb, initrd, xdeb, broken],
        rules=list(RULES),
        profiles=["dom0", "domu", "installer"],
    )
