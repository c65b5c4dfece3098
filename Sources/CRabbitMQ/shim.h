#ifndef PV_CRABBITMQ_SHIM_H
#define PV_CRABBITMQ_SHIM_H
#include <string.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
// Before rabbitmq-c initialises OpenSSL: never read an openssl.cnf (see CCurl's shim). 1 on success.
static inline int pv_amqp_openssl_init_without_config(void) { return OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL); }

// amqp_login_with_properties is variadic (the SASL method's arguments), which Swift cannot call: a
// typed wrapper for the PLAIN method, the only one RabbitMQ offers by default. The client
// properties announce the connection.blocked capability (rabbitmq-c merges it into its own
// capabilities): without it RabbitMQ never says that it blocks a publisher, it only stops reading.
static inline amqp_rpc_reply_t pv_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                   int channel_max, int frame_max, int heartbeat,
                                                   const char *user, const char *password) {
    amqp_table_entry_t capability;
    capability.key = amqp_cstring_bytes("connection.blocked");
    capability.value.kind = AMQP_FIELD_KIND_BOOLEAN;
    capability.value.value.boolean = 1;
    amqp_table_entry_t property;
    property.key = amqp_cstring_bytes("capabilities");
    property.value.kind = AMQP_FIELD_KIND_TABLE;
    property.value.value.table.num_entries = 1;
    property.value.value.table.entries = &capability;
    amqp_table_t properties;
    properties.num_entries = 1;
    properties.entries = &property;
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, &properties, AMQP_SASL_METHOD_PLAIN,
                                      user, password);
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

// Publisher confirms (confirm.select): what a frame says about published messages and the
// connection. 1 basic.ack, 2 basic.nack (with the delivery tag and whether it covers every tag up
// to it), 3 basic.return (a mandatory message no queue took), 4 channel.close or connection.close,
// 5 connection.blocked (with the broker's reason: "low on memory", "low on disk"), 6
// connection.unblocked, 7 channel.close-ok, 0 other.
static inline int pv_amqp_frame_confirm(const amqp_frame_t *frame, uint64_t *tag, int *multiple,
                                        const char **reason, size_t *reason_len) {
    if (frame->frame_type != AMQP_FRAME_METHOD) return 0;
    switch (frame->payload.method.id) {
    case AMQP_CONNECTION_BLOCKED_METHOD: {
        const amqp_connection_blocked_t *m = (const amqp_connection_blocked_t *)frame->payload.method.decoded;
        *reason = (const char *)m->reason.bytes; *reason_len = m->reason.len; return 5;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD: return 6;
    case AMQP_CHANNEL_CLOSE_OK_METHOD: return 7;
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *m = (const amqp_basic_ack_t *)frame->payload.method.decoded;
        *tag = m->delivery_tag; *multiple = m->multiple; return 1;
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *m = (const amqp_basic_nack_t *)frame->payload.method.decoded;
        *tag = m->delivery_tag; *multiple = m->multiple; return 2;
    }
    case AMQP_BASIC_RETURN_METHOD: return 3;
    case AMQP_CHANNEL_CLOSE_METHOD: case AMQP_CONNECTION_CLOSE_METHOD: return 4;
    default: return 0;
    }
}

// The publisher's channel set up in one call, so that the names' C strings live for every RPC that
// reads them (amqp_cstring_bytes only points at its argument): confirms selected, a durable direct
// exchange and a durable queue declared, and bound by the routing key. 0 when all went well, else
// the step that failed (1 confirm.select, 2 exchange.declare, 3 queue.declare, 4 queue.bind); the
// broker's reason is then amqp_get_rpc_reply's.
static inline int pv_amqp_declare_publisher(amqp_connection_state_t state, amqp_channel_t channel, const char *exchange,
                                            const char *queue, const char *routing_key) {
    if (amqp_confirm_select(state, channel) == NULL) return 1;
    if (amqp_exchange_declare(state, channel, amqp_cstring_bytes(exchange), amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table) == NULL) return 2;
    if (amqp_queue_declare(state, channel, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table) == NULL) return 3;
    if (amqp_queue_bind(state, channel, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), amqp_cstring_bytes(routing_key),
                        amqp_empty_table) == NULL) return 4;
    return 0;
}

// Sends channel.close without waiting for its close-ok (amqp_channel_close waits its whole RPC
// bound, which a broker that stopped reading would use up): the caller reads the answer itself.
static inline int pv_amqp_send_channel_close(amqp_connection_state_t state, amqp_channel_t channel) {
    amqp_channel_close_t m;
    memset(&m, 0, sizeof m);
    m.reply_code = AMQP_REPLY_SUCCESS;
    m.reply_text = amqp_cstring_bytes("");
    return amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_METHOD, &m);
}

// The answer to a channel.close the broker sent (a probe it refused, say), so that the connection can close politely.
static inline int pv_amqp_send_channel_close_ok(amqp_connection_state_t state, amqp_channel_t channel) {
    amqp_channel_close_ok_t m;
    memset(&m, 0, sizeof m);
    return amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &m);
}

// An empty message to the default exchange under a routing key no queue has (not mandatory: the
// broker drops it). The diagnostics' probe: a broker under a resource alarm blocks a connection
// only once it publishes.
static inline int pv_amqp_publish_probe(amqp_connection_state_t state, amqp_channel_t channel, const char *routing_key) {
    amqp_bytes_t empty;
    empty.bytes = NULL;
    empty.len = 0;
    return amqp_basic_publish(state, channel, amqp_empty_bytes, amqp_cstring_bytes(routing_key), 0, 0, NULL, empty);
}

// One persistent JSON message (delivery mode 2), mandatory (a message no queue takes comes back).
static inline int pv_amqp_publish_persistent(amqp_connection_state_t state, amqp_channel_t channel, const char *exchange,
                                             const char *routing_key, const void *body, size_t len, const char *message_id) {
    amqp_basic_properties_t props;
    memset(&props, 0, sizeof props);
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.message_id = amqp_cstring_bytes(message_id);
    amqp_bytes_t bytes;
    bytes.bytes = (void *)body;
    bytes.len = len;
    return amqp_basic_publish(state, channel, amqp_cstring_bytes(exchange), amqp_cstring_bytes(routing_key), 1, 0, &props, bytes);
}

#endif

/* The broker's name checked by OpenSSL inside the chain verification (the verify result then says
   "hostname mismatch"): an IP address against the certificate's IP addresses, a host name against
   its DNS names, no partial wildcards. rabbitmq-c 0.11's own check compares DNS names only, so a
   broker addressed by IP (an IP SAN) never verified with it. rabbitmq-c makes an SSL_CTX per socket;
   the handshake's SSL inherits these parameters. 1 when set. */
static inline int pv_amqp_ssl_expect_peer(amqp_socket_t *socket, const char *host) {
    SSL_CTX *ctx = (SSL_CTX *)amqp_ssl_socket_get_context(socket);
    if (ctx == NULL) return 0;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1) return 1;
    return X509_VERIFY_PARAM_set1_host(param, host, 0) == 1;
}
