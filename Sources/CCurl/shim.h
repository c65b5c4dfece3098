#ifndef PV_CCURL_SHIM_H
#define PV_CCURL_SHIM_H
#include <curl/curl.h>
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
#endif
