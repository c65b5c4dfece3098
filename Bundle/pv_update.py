#!/usr/bin/env python3
"""Compatibility shim: ProVision's "Push Update" runs `python3 /provision/libs/pv_update.py`.

The work is done by the Swift tool `pv_update` next to this file; this shim only
replaces itself with it, passing the arguments through, so nothing on the
management side has to change.
"""
import os
import stat
import sys

here = os.path.dirname(os.path.realpath(__file__))
os.environ.setdefault("PV_ROOT", os.path.dirname(here))
tool = os.path.join(here, "pv_update")
# Root never runs a program the agent's user can change (this directory is that user's).
if os.geteuid() == 0:
    try:
        info = os.stat(tool)
    except OSError:
        info = None
    if info is None or info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        sys.stderr.write(
            "Error: as root, pv_update.py does not run %s: the agent's user can change it\n"
            "Next step: run it as the agent's user (sudo -u <user> python3 %s)\n" % (tool, os.path.realpath(__file__)))
        sys.exit(77)
try:
    os.execv(tool, [tool] + sys.argv[1:])
except OSError as error:
    sys.stderr.write("pv_update.py: cannot run %s: %s\nNext step: reinstall the agent (pv_install -e install_libs)\n" % (tool, error))
    sys.exit(71)
