#!/usr/bin/env python3
"""Compatibility shim: the seed documents `/provision/libs/pv_install.py -e/--exec-only=STEP`, and
ProVision's "Push Install" calls the scripts by those names.

The work is done by the Swift tool `pv_install` next to this file; this shim only replaces itself
with it, passing the arguments through, so its output and exit codes are pv_install's.

Root never runs a program the agent's user can change: this directory belongs to that user, so as
root the shim refuses unless pv_install here is root's and writable by no one else. An admin runs
the bundle's install_python3.sh instead (which checks every file against the bundle's manifest).
"""
import os
import stat
import sys

here = os.path.dirname(os.path.realpath(__file__))
os.environ.setdefault("PV_ROOT", os.path.dirname(here))
tool = os.path.join(here, "pv_install")
if os.geteuid() == 0:
    try:
        info = os.stat(tool)
    except OSError as error:
        info = None
    if info is None or info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        sys.stderr.write(
            "Error: as root, pv_install.py does not run %s: the agent's user can change it\n"
            "Next step: as root, run the bundle's installer instead: sudo /bin/bash install_python3.sh"
            " (with the same -e/--exec-only steps); or run pv_install.py as the agent's user\n" % tool)
        sys.exit(77)
try:
    os.execv(tool, [tool] + sys.argv[1:])
except OSError as error:
    sys.stderr.write("pv_install.py: cannot run %s: %s\nNext step: reinstall the agent (install_python3.sh -e install_libs)\n" % (tool, error))
    sys.exit(71)
