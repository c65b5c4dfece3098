#ifndef PV_CRABBITMQ_SHIM_H
#define PV_CRABBITMQ_SHIM_H
#include <string.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <openssl/ssl.h>
// Before rabbitmq-c initialises OpenSSL: never read an openssl.cnf (see CCurl's shim). 1 on success.
static inline int pv_amqp_openssl_init_without_config(void) { return OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL); }

// amqp_login is variadic (the SASL method's arguments), which Swift cannot
// call: a typed wrapper for the PLAIN method, the only one RabbitMQ offers by default.
static inline amqp_rpc_reply_t pv_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                   int channel_max, int frame_max, int heartbeat,
                                                   const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

// The reply of a server-side close carries a decoded method whose type Swift
// sees only as a raw pointer: read its code and text here.
static inline int pv_amqp_close_reply(amqp_rpc_reply_t reply, unsigned short *code, const char **text, size_t *text_len) {
    if (reply.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || reply.reply.decoded == NULL) return 0;
    if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = (amqp_connection_close_t *)reply.reply.decoded;
        *code = m->reply_code; *text = (const char *)m->reply_text.bytes; *text_len = m->reply_text.len;
        return 1;
    }
    if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = (amqp_channel_close_t *)reply.reply.decoded;
        *code = m->reply_code; *text = (const char *)m->reply_text.bytes; *text_len = m->reply_text.len;
        return 2;
    }
    return 0;
}

// The broker's product and version from the connection.start properties, for the report.
static inline int pv_amqp_server_property(amqp_connection_state_t state, const char *key, const char **value, size_t *len) {
    const amqp_table_t *t = amqp_get_server_properties(state);
    if (t == NULL) return 0;
    for (int i = 0; i < t->num_entries; i++) {
        const amqp_table_entry_t *e = &t->entries[i];
        if (e->key.len == strlen(key) && memcmp(e->key.bytes, key, e->key.len) == 0 && e->value.kind == AMQP_FIELD_KIND_UTF8) {
            *value = (const char *)e->value.value.bytes.bytes; *len = e->value.value.bytes.len;
            return 1;
        }
    }
    return 0;
}
#endif
