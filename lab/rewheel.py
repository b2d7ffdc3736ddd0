"""A copy of a built dpfwd wheel under another version number, so that tests
can deploy an upgrade (and switch back) without building twice: the
dist-info directory is renamed, METADATA's Version and dpfwd.__version__ are
rewritten, and RECORD is made again with the new files' hashes.

    python -m lab.rewheel dist/dpfwd-0.1.0-cp311-cp311-linux_x86_64.whl 0.1.1 /tmp/wheels
"""
import base64
import hashlib
import os
import re
import sys
import zipfile


def _record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"


def rewheel(wheel, version, dest_dir):
    """Write wheel's copy as `version` into dest_dir; return its path."""
    name = os.path.basename(wheel)
    match = re.match(r"^(dpfwd)-([^-]+)-(.+\.whl)$", name)
    if not match:
        raise ValueError(f"{name} is not a dpfwd wheel")
    old = match.group(2)
    old_info, new_info = f"dpfwd-{old}.dist-info/", f"dpfwd-{version}.dist-info/"
    out_path = os.path.join(dest_dir, f"dpfwd-{version}-{match.group(3)}")
    record, entries = f"{new_info}RECORD", []
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            path, data = item.filename, src.read(item)
            if path == f"{old_info}RECORD":
                continue
            if path.startswith(old_info):
                path = new_info + path[len(old_info):]
            if path == f"{new_info}METADATA":
                data = re.sub(rb"^Version: .*$", f"Version: {version}".encode(), data, count=1, flags=re.M)
            elif path == "dpfwd/__init__.py":
                data, n = re.subn(rb'^__version__ = ".*"$', f'__version__ = "{version}"'.encode(), data,
                                  flags=re.M)
                if n != 1:
                    raise ValueError("dpfwd/__init__.py has no __version__ line to rewrite")
            info = zipfile.ZipInfo(path, item.date_time)
            info.external_attr, info.compress_type = item.external_attr, zipfile.ZIP_DEFLATED
            out.writestr(info, data)
            entries.append(f"{path},{_record_hash(data)}")
        entries.append(f"{record},,")
        out.writestr(record, "\n".join(entries) + "\n")
    return out_path


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python -m lab.rewheel WHEEL VERSION DEST_DIR")
    print(rewheel(*sys.argv[1:]))
