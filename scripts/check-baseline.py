#!/usr/bin/env python3
"""check-baseline.py WHEEL|SO...: fail when the compiled data plane uses
instructions beyond the portable baseline it is built for: x86-64-v2 on
x86-64, and on arm64 what Debian's arm64 DPDK assumes (armv8-a, with CRC32).

Appliances are not the build host: a wheel tuned for the build host's CPU
dies with SIGILL on an older one.

x86-64: everything VEX/EVEX-encoded (AVX, AVX2, AVX-512, FMA, BMI, all spelled
v...) and the other x86-64-v3 scalar additions are beyond v2. tzcnt is
allowed: GCC emits it as "rep bsf", which older CPUs run.

arm64: SVE and SVE2 (z and p registers), the LSE atomics of armv8.1 (outside
libgcc's __aarch64_* helpers, which check the CPU before they use them), RCpc
loads, the dot-product, matrix, BF16 and half-precision arithmetic of later
versions, and pointer authentication outside the hint space. CRC32 is allowed:
Debian builds its arm64 DPDK with it.
"""
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

EM_X86_64, EM_AARCH64 = 62, 183
INSN = re.compile(r"^\s*[0-9a-f]+:\s+(\S+)\s*(.*)$")
FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")

BEYOND_V2_SCALAR = {"andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "pdep", "pext",
                    "rorx", "sarx", "shlx", "shrx", "lzcnt", "movbe", "mulx", "adcx", "adox"}
WIDE_REGISTER = re.compile(r"%[yz]mm\d|%k[0-7]\b")

SVE_REGISTER = re.compile(r"\b(z([12]?[0-9]|3[01])\.[bhsdq]|p(1[0-5]|[0-9])(\.[bhsd]|/[zm]))\b")
LSE = re.compile(r"^(ld|st)(add|clr|eor|set|smax|smin|umax|umin)(a|l|al)?[bh]?$|^(swp|cas|casp)(a|l|al)?[bh]?$")
BEYOND_V8 = re.compile(r"^(ldapr|ldapur|sdot|udot|usdot|sudot|smmla|ummla|usmmla|bf(dot|mmla|cvt|mlal)|"
                       r"sqrdml[as]h|fcmla|fcadd|fjcvtzs|frint(32|64)|retaa|retab|braa|brab|blraa|blrab|"
                       r"ldraa|ldrab|eretaa|eretab)")
HALF = re.compile(r"\bh([12]?[0-9]|3[01])\b|\.\d*h\b")
ARCH = {EM_X86_64: "x86-64-v2", EM_AARCH64: "armv8-a"}
FIX = {EM_X86_64: "build for the portable baseline, not for this CPU (DPFWD_MARCH sets it)",
       EM_AARCH64: "build with Debian's arm64 flags (-march=armv8-a+crc), not for this CPU (DPFWD_MARCH sets it)"}


def machine(so_path):
    with open(so_path, "rb") as f:
        header = f.read(20)
    if header[:4] != b"\x7fELF":
        raise SystemExit(f"check-baseline: {so_path} is not an ELF file")
    return int.from_bytes(header[18:20], "little")


def objdump_for(em):
    """An objdump that disassembles em: this machine's own, or a cross one."""
    native = {"x86_64": EM_X86_64, "aarch64": EM_AARCH64}.get(
        subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip())
    if native == em:
        return "objdump"
    cross = {EM_X86_64: "x86_64-linux-gnu-objdump", EM_AARCH64: "aarch64-linux-gnu-objdump"}[em]
    if shutil.which(cross):
        return cross
    raise SystemExit(f"check-baseline: {cross} is needed to check {ARCH[em]} code here "
                     f"(apt-get install binutils-{cross.rsplit('-', 1)[0]}), or run it on such a machine")


def beyond_baseline(em, mnemonic, operands, function):
    if em == EM_X86_64:
        return ((mnemonic.startswith("v") and mnemonic not in ("verr", "verw"))
                or mnemonic in BEYOND_V2_SCALAR or WIDE_REGISTER.search(operands))
    if SVE_REGISTER.search(operands) or BEYOND_V8.match(mnemonic):
        return True
    if LSE.match(mnemonic):
        return not function.startswith("__aarch64_")
    return mnemonic.startswith("f") and not mnemonic.startswith("fcvt") and HALF.search(operands)


def offending(so_path):
    """(mnemonic, line) pairs beyond the baseline, first of each mnemonic; and the ELF machine."""
    em = machine(so_path)
    if em not in ARCH:
        raise SystemExit(f"check-baseline: {so_path}: no baseline known for ELF machine {em}")
    dump = subprocess.run([objdump_for(em), "-d", "--no-show-raw-insn", so_path],
                          check=True, capture_output=True, text=True).stdout
    seen, function = {}, ""
    for line in dump.splitlines():
        f = FUNCTION.match(line)
        if f:
            function = f.group(1)
            continue
        m = INSN.match(line)
        if m and beyond_baseline(em, *m.groups(), function):
            seen.setdefault(m.group(1), line.strip())
    return seen, em


def shared_objects(path, scratch):
    if not path.endswith(".whl"):
        return [path]
    with zipfile.ZipFile(path) as whl:
        names = [n for n in whl.namelist() if n.endswith(".so")]
        whl.extractall(scratch, names)
    return [f"{scratch}/{n}" for n in names]


def main(paths):
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        for path in paths:
            for so in shared_objects(path, scratch):
                bad, em = offending(so)
                name = so.rsplit("/", 1)[-1]
                if bad:
                    failed = True
                    print(f"check-baseline: {name} uses instructions beyond {ARCH[em]}: "
                          + ", ".join(sorted(bad)) + f" (e.g. {next(iter(bad.values()))}); {FIX[em]}",
                          file=sys.stderr)
                else:
                    print(f"check-baseline: {name}: {ARCH[em]} only")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: check-baseline.py WHEEL|SO...")
    sys.exit(main(sys.argv[1:]))
