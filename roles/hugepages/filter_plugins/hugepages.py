# SPDX-License-Identifier: BSD-3-Clause
"""Filters for the hugepages role: what the kernel command line lacks, and
the systemd unit name of a mount point."""
import re


def kernel_args_missing(cmdline, wanted):
    """The words of wanted not on cmdline, compared whole: hugepages=1 is not
    hugepages=16. A hugepages= count belongs to the hugepagesz= just before
    it, as the kernel reads them, so such a pair must appear as a pair."""
    words = str(cmdline).split()
    pairs = set(zip(words, words[1:]))
    missing, i = [], 0
    while i < len(wanted):
        if wanted[i].startswith("hugepagesz=") and wanted[i + 1:i + 2] and wanted[i + 1].startswith("hugepages="):
            if (wanted[i], wanted[i + 1]) not in pairs:
                missing += wanted[i:i + 2]
            i += 2
            continue
        if wanted[i] not in words:
            missing.append(wanted[i])
        i += 1
    return missing


def mount_unit(path):
    """systemd-escape --path --suffix=mount: /dev/hugepages-1G ->
    dev-hugepages\\x2d1G.mount."""
    path = re.sub("/+", "/", str(path)).strip("/") or "-"
    out = []
    for i, ch in enumerate(path):
        if ch == "/":
            out.append("-")
        elif ch.isascii() and (ch.isalnum() or ch in ":_" or (ch == "." and i > 0)):
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode())
    return "".join(out) + ".mount"


class FilterModule:
    def filters(self):
        return {"kernel_args_missing": kernel_args_missing, "mount_unit": mount_unit}
