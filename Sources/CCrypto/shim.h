#ifndef PV_CCRYPTO_SHIM_H
#define PV_CCRYPTO_SHIM_H
// OpenSSL's libcrypto: SHA-256 of bundle files (the manifest) and the Ed25519 signature of
// the manifest (PEM keys, as `openssl genpkey -algorithm ed25519` writes them).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>

/// The host's openssl.cnf is never read (a static tool carries its own OpenSSL).
static inline int pv_crypto_init_without_config(void) { return OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL); }
static inline int pv_pkey_is_ed25519(const EVP_PKEY *key) { return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519; }
#endif
