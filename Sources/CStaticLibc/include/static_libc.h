#ifndef PV_STATIC_LIBC_H
#define PV_STATIC_LIBC_H
// What a fully static tool must settle before main (see static_libc.c).
// 1 when this process runs without a dynamic loader (a fully static executable).
int pv_is_static_executable(void);
#endif
