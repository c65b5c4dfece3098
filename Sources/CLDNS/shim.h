#ifndef PV_CLDNS_SHIM_H
#define PV_CLDNS_SHIM_H
// stdbool first: without it ldns' `bool` imports into Swift as Int8.
#include <stdbool.h>
#include <ldns/ldns.h>
#endif
