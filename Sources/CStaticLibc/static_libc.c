// The bundle's tools are fully static executables (glibc linked in), so that they run on every
// distribution ProVision manages whatever its own glibc. One part of glibc stays dynamic even
// then: NSS. getpwnam, getgrnam and getaddrinfo read /etc/nsswitch.conf and dlopen a
// libnss_<service>.so.2 for each service named there (systemd, sss, mdns4_minimal, myhostname).
// Those are the host's, built against the host's glibc, and loading one into a static process
// built against another glibc can crash it or return garbage.
//
// So, before main, a static tool restricts each database it uses to the services compiled into
// its own libc (glibc >= 2.34 has files and dns inside libc): accounts and groups from
// /etc/passwd and /etc/group, host names from /etc/hosts, then DNS. The agent's user and the
// docker group are local accounts (the install creates them with useradd and groupadd); a
// management host name resolves through /etc/hosts or DNS. A dynamically linked build (the
// tests' debug build) keeps the host's nsswitch.conf as it is.
#include <nss.h>
#include <sys/auxv.h>
#include "static_libc.h"

int pv_is_static_executable(void) {
    // AT_BASE is where the kernel mapped the program interpreter: 0 when there is none.
    return getauxval(AT_BASE) == 0;
}

__attribute__((constructor)) static void pv_static_nss(void) {
    if (!pv_is_static_executable()) return;
    __nss_configure_lookup("passwd", "files");
    __nss_configure_lookup("group", "files");
    __nss_configure_lookup("shadow", "files");
    __nss_configure_lookup("initgroups", "files");
    __nss_configure_lookup("hosts", "files dns");
    __nss_configure_lookup("services", "files");
    __nss_configure_lookup("protocols", "files");
}
