#ifndef PV_CXATTR_SHIM_H
#define PV_CXATTR_SHIM_H
// <sys/xattr.h> (fsetxattr: the file capability of the DHCP check helper), which Glibc's module leaves out.
#include <sys/xattr.h>
#endif
