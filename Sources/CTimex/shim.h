#ifndef PV_CTIMEX_SHIM_H
#define PV_CTIMEX_SHIM_H
// <sys/timex.h> is not part of Swift's Glibc module. adjtimex(2) with modes 0
// only reads: the clock state (TIME_ERROR when unsynchronised), STA_UNSYNC and
// the kernel's error estimate. Returns the clock state, or -1 on error.
#include <sys/timex.h>

static inline int pv_clock_sync_state(int *unsynchronised, long *max_error_us) {
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state < 0) return -1;
    *unsynchronised = (state == TIME_ERROR) || (tx.status & STA_UNSYNC) != 0;
    *max_error_us = tx.maxerror;
    return state;
}
#endif
