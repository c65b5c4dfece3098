#ifndef PV_CCRYPTO_SHIM_H
#define PV_CCRYPTO_SHIM_H
// OpenSSL's libcrypto, for SHA-256 of bundle files (the manifest).
#include <openssl/evp.h>
#endif
