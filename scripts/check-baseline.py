#!/usr/bin/env python3
"""check-baseline.py WHEEL|SO...: fail when the compiled data plane uses
instructions beyond the portable x86-64 baseline (x86-64-v2) it is built for.

Appliances are not the build host: a wheel tuned for the build host's CPU
dies with SIGILL on an older one. Everything VEX/EVEX-encoded (AVX, AVX2,
AVX-512, FMA, BMI, all spelled v...) and the other x86-64-v3 scalar additions
are beyond v2. tzcnt is allowed: GCC emits it as "rep bsf", which older CPUs run.
"""
import re
import subprocess
import sys
import tempfile
import zipfile

BEYOND_V2_SCALAR = {"andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "pdep", "pext",
                    "rorx", "sarx", "shlx", "shrx", "lzcnt", "movbe", "mulx", "adcx", "adox"}
WIDE_REGISTER = re.compile(r"%[yz]mm\d|%k[0-7]\b")
INSN = re.compile(r"^\s*[0-9a-f]+:\s+(\S+)\s*(.*)$")


def offending(so_path):
    """(mnemonic, line) pairs beyond x86-64-v2, first of each mnemonic."""
    dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", so_path],
                          check=True, capture_output=True, text=True).stdout
    seen = {}
    for line in dump.splitlines():
        m = INSN.match(line)
        if not m:
            continue
        mnemonic, operands = m.groups()
        if (mnemonic.startswith("v") and mnemonic not in ("verr", "verw")) \
                or mnemonic in BEYOND_V2_SCALAR or WIDE_REGISTER.search(operands):
            seen.setdefault(mnemonic, line.strip())
    return seen


def shared_objects(path, scratch):
    if not path.endswith(".whl"):
        return [path]
    with zipfile.ZipFile(path) as whl:
        names = [n for n in whl.namelist() if n.endswith(".so")]
        whl.extractall(scratch, names)
    return [f"{scratch}/{n}" for n in names]


def main(paths):
    arch = subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip()
    if arch != "x86_64":
        print(f"check-baseline: no instruction check for {arch}; built with Debian's own -march")
        return 0
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        for path in paths:
            for so in shared_objects(path, scratch):
                bad = offending(so)
                name = so.rsplit("/", 1)[-1]
                if bad:
                    failed = True
                    print(f"check-baseline: {name} uses instructions beyond x86-64-v2: "
                          + ", ".join(sorted(bad)) + f" (e.g. {next(iter(bad.values()))}); "
                          "build for the portable baseline, not for this CPU (DPFWD_MARCH sets it)",
                          file=sys.stderr)
                else:
                    print(f"check-baseline: {name}: x86-64-v2 only")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: check-baseline.py WHEEL|SO...")
    sys.exit(main(sys.argv[1:]))
