#!/usr/bin/env python3
"""Writes a hostile setup-<ID>.tar for the installer's refusal tests.

    hostile_bundle.py KIND GOOD_TAR OUT_TAR CANARY_PATH

Starts from a good bundle and adds or changes one thing:
  dotdot      an entry ../<canary name>
  absolute    an entry at the canary's absolute path
  symlink     a symlink libs/escape -> the canary's directory, then libs/escape/<canary name>
  hardlink    a hard link to the canary's path
  device      a character device
  mismatch    a file whose content no longer matches SHA256SUMS
  truncated   the good tar cut in the middle of a member
"""
import io
import os
import sys
import tarfile

kind, good, out, canary = sys.argv[1:5]
canary_dir, canary_name = os.path.split(canary)

if kind == "truncated":
    data = open(good, "rb").read()
    with tarfile.open(good) as t:
        biggest = max(t.getmembers(), key=lambda m: m.size)
    open(out, "wb").write(data[: biggest.offset_data + biggest.size // 2])
    sys.exit(0)

def add_bytes(t, name, data, **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    t.addfile(info, io.BytesIO(data))

with tarfile.open(good) as src, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as dst:
    for m in src.getmembers():
        f = src.extractfile(m) if m.isfile() else None
        if kind == "mismatch" and m.name == "install_docker.sh":
            data = f.read() + b"\necho tampered\n"
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
            continue
        dst.addfile(m, f)
    if kind == "dotdot":
        add_bytes(dst, "../" + canary_name, b"escaped\n")
    elif kind == "absolute":
        add_bytes(dst, canary, b"escaped\n")
    elif kind == "symlink":
        link = tarfile.TarInfo("libs/escape")
        link.type = tarfile.SYMTYPE
        link.linkname = canary_dir
        dst.addfile(link)
        add_bytes(dst, "libs/escape/" + canary_name, b"escaped\n")
    elif kind == "hardlink":
        link = tarfile.TarInfo("libs/escape")
        link.type = tarfile.LNKTYPE
        link.linkname = canary
        dst.addfile(link)
    elif kind == "device":
        dev = tarfile.TarInfo("libs/null")
        dev.type = tarfile.CHRTYPE
        dev.devmajor, dev.devminor = 1, 3
        dst.addfile(dev)
