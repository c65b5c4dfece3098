#!/usr/bin/env python3
"""Compatibility shim: ProVision's "Push Update" runs `python3 /provision/libs/pv_update.py`.

The work is done by the Swift tool `pv_update` next to this file; this shim only
replaces itself with it, passing the arguments through, so nothing on the
management side has to change.
"""
import os
import sys

here = os.path.dirname(os.path.realpath(__file__))
os.environ.setdefault("PV_ROOT", os.path.dirname(here))
tool = os.path.join(here, "pv_update")
try:
    os.execv(tool, [tool] + sys.argv[1:])
except OSError as error:
    sys.stderr.write("pv_update.py: cannot run %s: %s\nNext step: reinstall the agent (pv_install -e install_libs)\n" % (tool, error))
    sys.exit(71)
