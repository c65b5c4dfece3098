#ifndef PV_CARCHIVE_SHIM_H
#define PV_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
// AE_IF* are cast macros that Swift cannot import.
static const unsigned int PV_AE_IFREG = 0100000;
static const unsigned int PV_AE_IFLNK = 0120000;
static const unsigned int PV_AE_IFDIR = 0040000;
static const unsigned int PV_AE_IFMT = 0170000;
#endif
