#ifndef PV_CCURL_SHIM_H
#define PV_CCURL_SHIM_H
#include <curl/curl.h>
#include <openssl/ssl.h>
// Before libcurl initialises OpenSSL: never read an openssl.cnf. A static tool carries its own
// OpenSSL, and the host's configuration (written for the host's OpenSSL) can name providers or
// engines to dlopen, which a static process must not load. 1 on success.
static inline int pv_openssl_init_without_config(void) { return OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL); }
// curl_easy_setopt/getinfo are variadic: Swift needs typed wrappers.
static inline CURLcode pv_curl_setopt_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode pv_curl_setopt_string(CURL *c, CURLoption o, const char *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode pv_curl_setopt_pointer(CURL *c, CURLoption o, void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode pv_curl_setopt_slist(CURL *c, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(c, o, v); }
typedef size_t (*pv_curl_write_cb)(char *, size_t, size_t, void *);
static inline CURLcode pv_curl_setopt_write(CURL *c, CURLoption o, pv_curl_write_cb v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode pv_curl_getinfo_long(CURL *c, CURLINFO i, long *v) { return curl_easy_getinfo(c, i, v); }
static inline CURLcode pv_curl_getinfo_double(CURL *c, CURLINFO i, double *v) { return curl_easy_getinfo(c, i, v); }
static inline CURLcode pv_curl_setopt_off(CURL *c, CURLoption o, curl_off_t v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode pv_curl_getinfo_off(CURL *c, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(c, i, v); }
// The bitmask form of the protocol restriction, for libcurl older than 7.85 (deprecated since).
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static const CURLoption PV_CURLOPT_PROTOCOLS_MASK = CURLOPT_PROTOCOLS;
#pragma clang diagnostic pop
#endif
