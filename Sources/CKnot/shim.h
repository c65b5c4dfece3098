#ifndef PV_CKNOT_SHIM_H
#define PV_CKNOT_SHIM_H
// libknot's control client (the protocol knotc speaks to knotd's control socket).
#include <stdbool.h>
#include <libknot/control/control.h>
#include <libknot/errcode.h>
#include <libknot/error.h>
#endif
