/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlf_shim: write Hyperledger Fabric chaincode in C and run it as a
 * chaincode-as-a-service (CCaaS) server.
 *
 * A chaincode is two callbacks, init and invoke, that receive a stub
 * (hlf_stub_t) describing one transaction and return an hlf_response_t. The
 * stub gives the transaction context (arguments, tx id, channel, creator,
 * timestamp, transient data) and the world-state calls (get/put/delete,
 * range, composite-key and history queries, events). Every stub call that
 * talks to the peer blocks until the peer answers, exactly like the Go shim,
 * so chaincode is written as straight-line code. hlf_chaincode_server_run()
 * listens for peers (the peer dials the chaincode in CCaaS mode), speaks the
 * shim protocol on every stream and runs transactions on a worker pool.
 *
 * Conventions used throughout this header:
 *
 * - Fallible functions return int: HLF_OK (0) or a negative HLF_E* code from
 *   <hlf/err.h>. Stub calls keep the detail of the last failure in the stub
 *   (hlf_stub_last_error()), so chaincode code stays short. Codes: HLF_EINVAL
 *   bad argument or key; HLF_EIO the peer answered the request with ERROR (its
 *   text is in the last error); HLF_EPROTO the peer's answer was malformed;
 *   HLF_ECLOSED the stream to the peer ended during the transaction;
 *   HLF_ENOMEM out of memory.
 * - Ownership words: "borrowed" (valid until the named event, never freed
 *   by the caller), "new" (caller frees with the named function), "copied"
 *   (the callee keeps its own copy; the caller's buffer can go right away).
 *   Unless said otherwise, everything a stub returns is borrowed from the
 *   transaction arena and stays valid until init/invoke returns.
 * - Keys are NUL-terminated UTF-8 C strings. Fabric composite keys contain
 *   U+0000, which a C string cannot hold, so in this API U+0000 inside a key
 *   is written as the two bytes C0 80 ("Modified UTF-8", the convention JNI
 *   and Tcl use for the same problem). The shim converts to and from the wire
 *   form (a real 0x00 byte) at the protocol boundary, so the ledger holds
 *   exactly what the Go and Node shims write. Keys built with
 *   hlf_stub_create_composite_key() are already in this form; code that never
 *   uses composite keys never sees it. Any other invalid UTF-8 in a key is
 *   rejected with HLF_EINVAL before anything is sent.
 *
 * THREAD SAFETY: one stub belongs to one transaction and is used only from
 * the thread that runs that transaction's init/invoke (calls on one stub are
 * never concurrent). Different transactions run concurrently on different
 * worker threads, so init/invoke and everything they share must be
 * thread-safe. Functions that take no stub are thread-safe unless noted.
 */
#ifndef HLF_SHIM_H
#define HLF_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include <hlf/err.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

/* One transaction as seen by the chaincode (opaque). */
typedef struct hlf_stub_s hlf_stub_t;

/* A query result iterator (range, composite-key, rich query or history). */
typedef struct hlf_iter_s hlf_iter_t;

/* A running chaincode server (opaque). */
typedef struct hlf_chaincode_server_s hlf_chaincode_server_t;

/* Response status codes with the meaning Fabric gives them. */
#define HLF_STATUS_OK 200
#define HLF_STATUS_ERROR_THRESHOLD 400
#define HLF_STATUS_ERROR 500

/* U+0000 (the composite-key separator) as written in keys of this API. */
#define HLF_KEY_SEP "\xC0\x80"

/*
 * What init/invoke return. status: 200 for success, >= 400 for failure (the
 * peer then refuses to endorse). message: text for failures (may be NULL).
 * payload/payload_len: result bytes (may be NULL/0). The shim copies message
 * and payload after init/invoke returns, so they may point into the
 * transaction arena (hlf_stub_alloc() and friends), static storage, or any
 * buffer that outlives the callback; the shim never frees them.
 */
typedef struct {
    int32_t status;
    const char *message;
    const uint8_t *payload;
    size_t payload_len;
} hlf_response_t;

/*
 * The chaincode. init runs for INIT messages (only sent by the peer for
 * definitions committed with --init-required); NULL means "succeed with an
 * empty payload". invoke runs for every TRANSACTION and must not be NULL.
 * ud is passed to both unchanged.
 *
 * As in the Go shim, an invoke response with any status is sent to the peer
 * as COMPLETED (the peer turns status >= 400 into an endorsement failure),
 * while an init response with status >= 500 is sent as ERROR.
 */
typedef struct {
    hlf_response_t (*init)(hlf_stub_t *stub, void *ud);
    hlf_response_t (*invoke)(hlf_stub_t *stub, void *ud);
    void *ud;
} hlf_chaincode_t;

/* One result of a range, composite-key or rich query. */
typedef struct {
    const char *key;       /* this API's key form (see above) */
    const uint8_t *value;  /* may be NULL when value_len is 0 */
    size_t value_len;
} hlf_kv_t;

/* One entry of a key's history (newest first, committed versions only). */
typedef struct {
    const char *tx_id;          /* the transaction that wrote this version */
    const uint8_t *value;       /* NULL/0 for a delete */
    size_t value_len;
    int64_t timestamp_seconds;  /* that transaction's client timestamp */
    int32_t timestamp_nanos;
    int is_delete;              /* 1 when the transaction deleted the key */
} hlf_key_modification_t;

/* Result metadata of a paginated query. */
typedef struct {
    int32_t fetched;            /* records returned in this page */
    const char *bookmark;       /* pass back to get the next page; "" at end */
} hlf_query_meta_t;

/* ------------------------------------------------------------------------ */
/* Responses                                                                */
/* ------------------------------------------------------------------------ */

/*
 * A status-200 response carrying payload (borrowed until init/invoke
 * returns; may be NULL when len is 0).
 */
hlf_response_t hlf_success(const void *payload, size_t len);

/*
 * A failure response with status (use HLF_STATUS_ERROR, 500, unless you
 * need another code >= 400) and msg (borrowed until init/invoke returns).
 */
hlf_response_t hlf_error_response(int32_t status, const char *msg);

/* ------------------------------------------------------------------------ */
/* Transaction arena and errors                                             */
/* ------------------------------------------------------------------------ */

/*
 * Allocate n bytes (aligned for any type) from the transaction arena. The
 * memory is freed when the transaction ends; never free it yourself.
 * Returns NULL only when out of memory. Use it for response payloads.
 */
void *hlf_stub_alloc(hlf_stub_t *stub, size_t n);

/* Copy of s / of n bytes at p in the transaction arena (NULL on OOM). */
char *hlf_stub_strdup(hlf_stub_t *stub, const char *s);
void *hlf_stub_memdup(hlf_stub_t *stub, const void *p, size_t n);

/* printf into the transaction arena (NULL on OOM or format error). */
char *hlf_stub_printf(hlf_stub_t *stub, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Detail of the last failed stub call (code HLF_OK when the last call
 * succeeded). For HLF_EIO the text is the peer's error message. Borrowed:
 * valid until the next stub call.
 */
const hlf_error_t *hlf_stub_last_error(const hlf_stub_t *stub);

/* ------------------------------------------------------------------------ */
/* Arguments and transaction context                                        */
/* ------------------------------------------------------------------------ */

/*
 * The invocation arguments (ChaincodeInput.args). args[0] is the function
 * name by convention. *argv and *lens are borrowed arrays of *argc entries;
 * each argv[i] also has a NUL byte after its lens[i] bytes, so text
 * arguments can be used as C strings. Always HLF_OK.
 */
int hlf_stub_get_args(hlf_stub_t *stub, const uint8_t *const **argv,
                      const size_t **lens, size_t *argc);

/* Number of arguments. */
size_t hlf_stub_get_argc(hlf_stub_t *stub);

/*
 * args[0] as a C string (borrowed), "" when there are no arguments. If the
 * argument contains a NUL byte the string stops there.
 */
const char *hlf_stub_get_function(hlf_stub_t *stub);

/* args[i] as a C string (borrowed), NULL when i >= argc. */
const char *hlf_stub_get_string_arg(hlf_stub_t *stub, size_t i);

/* Transaction id and channel name (borrowed, never NULL). */
const char *hlf_stub_get_tx_id(hlf_stub_t *stub);
const char *hlf_stub_get_channel_id(hlf_stub_t *stub);

/*
 * The client's timestamp from the proposal's channel header (the same value
 * on every endorsing peer, so safe to store). HLF_EINVAL if the transaction
 * carried no proposal.
 */
int hlf_stub_get_tx_timestamp(hlf_stub_t *stub, int64_t *seconds,
                              int32_t *nanos);

/*
 * The creator: serialized msp.SerializedIdentity bytes (borrowed).
 * HLF_EINVAL if the transaction carried no proposal.
 */
int hlf_stub_get_creator(hlf_stub_t *stub, const uint8_t **bytes,
                         size_t *len);

/* The SignedProposal bytes as received (borrowed). HLF_EINVAL if none. */
int hlf_stub_get_signed_proposal(hlf_stub_t *stub, const uint8_t **bytes,
                                 size_t *len);

/*
 * The transient-map value for key (borrowed); *val = NULL, *len = 0 and
 * HLF_OK when the key is absent.
 */
int hlf_stub_get_transient(hlf_stub_t *stub, const char *key,
                           const uint8_t **val, size_t *len);

/*
 * The proposal binding, SHA-256(nonce || creator || epoch as 8 bytes little
 * endian): 32 bytes (borrowed). HLF_EINVAL if no proposal.
 */
int hlf_stub_get_binding(hlf_stub_t *stub, const uint8_t **bytes,
                         size_t *len);

/* A decoration set by peer decorators (borrowed; NULL/0 when absent). */
int hlf_stub_get_decoration(hlf_stub_t *stub, const char *key,
                            const uint8_t **val, size_t *len);

/*
 * The MSP id of the organisation running this chaincode: environment
 * variable CORE_PEER_LOCALMSPID (borrowed; NULL when unset).
 */
const char *hlf_stub_get_msp_id(hlf_stub_t *stub);

/* ------------------------------------------------------------------------ */
/* Client identity (the creator's X.509 certificate)                        */
/* ------------------------------------------------------------------------ */

/*
 * All of these parse the creator lazily on first use. They return NULL (or
 * HLF_EINVAL) when the transaction has no proposal or the creator is not an
 * X.509 identity; hlf_stub_last_error() says why.
 */

/* The creator's MSP id (borrowed). */
const char *hlf_stub_get_creator_msp_id(hlf_stub_t *stub);

/* The creator's certificate as PEM text (borrowed, NUL-terminated). */
const char *hlf_stub_get_creator_cert_pem(hlf_stub_t *stub);

/*
 * Subject and issuer distinguished names in RFC 2253 order, as Go's
 * pkix.Name.String() prints them, e.g. "CN=User1@org1.example.com,OU=client,
 * O=Org1,L=San Francisco,ST=California,C=US" (borrowed).
 */
const char *hlf_stub_get_creator_subject(hlf_stub_t *stub);
const char *hlf_stub_get_creator_issuer(hlf_stub_t *stub);

/* The subject's common name (borrowed; "" when there is none). */
const char *hlf_stub_get_creator_common_name(hlf_stub_t *stub);

/*
 * A unique id for the creator, "x509::<subject>::<issuer>" (borrowed). Go's
 * cid.GetID() returns the base64 of this same string.
 */
const char *hlf_stub_get_creator_id(hlf_stub_t *stub);

/*
 * The subject's organizational units (borrowed array of *n strings, in
 * certificate order; the node role "client", "peer", "admin" or "orderer" is
 * one of them when NodeOUs are used).
 */
int hlf_stub_get_creator_ous(hlf_stub_t *stub, const char *const **ous,
                             size_t *n);

/* 1 if the subject has organizational unit ou, else 0. */
int hlf_stub_creator_has_ou(hlf_stub_t *stub, const char *ou);

/*
 * A Fabric CA attribute of the creator (certificate extension
 * 1.2.3.4.5.6.7.8.1 holding JSON {"attrs":{"name":"value",...}}): the value
 * (borrowed) or NULL when the certificate has no such attribute.
 */
const char *hlf_stub_get_creator_attribute(hlf_stub_t *stub,
                                           const char *name);

/* ------------------------------------------------------------------------ */
/* World state                                                              */
/* ------------------------------------------------------------------------ */

/*
 * Read key. *val (borrowed) is NULL and *len 0 when the key does not exist.
 * Like every Fabric shim, reads see the committed state only: a put_state or
 * del_state earlier in the same transaction is NOT visible here.
 */
int hlf_stub_get_state(hlf_stub_t *stub, const char *key,
                       const uint8_t **val, size_t *len);

/*
 * Write key = val[0..len) (copied). The key must be non-empty valid UTF-8
 * and must not start with U+0000 unless it is a composite key made by
 * hlf_stub_create_composite_key(); otherwise HLF_EINVAL and nothing is sent.
 * An empty value is legal and, as in Fabric, acts as a delete at commit.
 */
int hlf_stub_put_state(hlf_stub_t *stub, const char *key, const void *val,
                       size_t len);

/* Delete key (same key rules as hlf_stub_put_state). */
int hlf_stub_del_state(hlf_stub_t *stub, const char *key);

/*
 * Keys in [start, end) in key order; "" for start means "from the first
 * simple key", "" for end means "no upper bound". Neither may be a
 * composite key (HLF_EINVAL). *it is new: free with hlf_iter_close().
 */
int hlf_stub_get_state_by_range(hlf_stub_t *stub, const char *start,
                                const char *end, hlf_iter_t **it);

/*
 * One page of at most page_size keys of [start, end), starting at bookmark
 * ("" or NULL for the first page). meta (may be NULL) receives the count and
 * the bookmark of the next page. The peer allows paginated queries only in
 * read-only transactions. *it is new: free with hlf_iter_close().
 */
int hlf_stub_get_state_by_range_with_pagination(hlf_stub_t *stub,
                                                const char *start,
                                                const char *end,
                                                int32_t page_size,
                                                const char *bookmark,
                                                hlf_iter_t **it,
                                                hlf_query_meta_t *meta);

/*
 * Composite keys of object type `type` whose first n attributes equal
 * attrs[0..n). *it is new: free with hlf_iter_close().
 */
int hlf_stub_get_state_by_partial_composite_key(hlf_stub_t *stub,
                                                const char *type,
                                                const char *const *attrs,
                                                size_t n, hlf_iter_t **it);

/* Paginated form of the above (see the range variant). */
int hlf_stub_get_state_by_partial_composite_key_with_pagination(
    hlf_stub_t *stub, const char *type, const char *const *attrs, size_t n,
    int32_t page_size, const char *bookmark, hlf_iter_t **it,
    hlf_query_meta_t *meta);

/*
 * Rich query (CouchDB state database only; LevelDB peers answer with an
 * error, returned here as HLF_EIO). *it is new: free with hlf_iter_close().
 */
int hlf_stub_get_query_result(hlf_stub_t *stub, const char *query,
                              hlf_iter_t **it);

/* Paginated rich query (see the range variant). */
int hlf_stub_get_query_result_with_pagination(hlf_stub_t *stub,
                                              const char *query,
                                              int32_t page_size,
                                              const char *bookmark,
                                              hlf_iter_t **it,
                                              hlf_query_meta_t *meta);

/*
 * History of key, newest first (needs the peer's history database). Read
 * it with hlf_iter_next_history(). *it is new: free with hlf_iter_close().
 */
int hlf_stub_get_history_for_key(hlf_stub_t *stub, const char *key,
                                 hlf_iter_t **it);

/*
 * Next result of a state query iterator: 1 and *kv filled (borrowed until
 * the next hlf_iter_next/hlf_iter_close on it), 0 at the end, or a negative
 * HLF_E* code (HLF_EINVAL for a history iterator). Fetches the next batch
 * from the peer when needed.
 */
int hlf_iter_next(hlf_iter_t *it, hlf_kv_t *kv);

/* Same for a history iterator (HLF_EINVAL on a state query iterator). */
int hlf_iter_next_history(hlf_iter_t *it, hlf_key_modification_t *km);

/*
 * Close it (takes it; NULL is a no-op). If the peer still holds results it
 * is told to drop them. Returns HLF_OK or the error of that request; the
 * iterator is freed either way. Iterators left open are freed when the
 * transaction ends.
 */
int hlf_iter_close(hlf_iter_t *it);

/* ------------------------------------------------------------------------ */
/* Private data (collections)                                               */
/* ------------------------------------------------------------------------ */

/* Like get/put/del_state in collection (non-empty). Not allowed in init. */
int hlf_stub_get_private_data(hlf_stub_t *stub, const char *collection,
                              const char *key, const uint8_t **val,
                              size_t *len);
int hlf_stub_put_private_data(hlf_stub_t *stub, const char *collection,
                              const char *key, const void *val, size_t len);
int hlf_stub_del_private_data(hlf_stub_t *stub, const char *collection,
                              const char *key);

/* The SHA-256 hash of a private value (borrowed; NULL/0 when absent). */
int hlf_stub_get_private_data_hash(hlf_stub_t *stub, const char *collection,
                                   const char *key, const uint8_t **hash,
                                   size_t *len);

/* ------------------------------------------------------------------------ */
/* Key-level endorsement                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Set / get the serialized endorsement policy of key (state metadata entry
 * "VALIDATION_PARAMETER"). get: *ep borrowed, NULL/0 when none is set.
 */
int hlf_stub_set_state_validation_parameter(hlf_stub_t *stub,
                                            const char *key, const void *ep,
                                            size_t len);
int hlf_stub_get_state_validation_parameter(hlf_stub_t *stub,
                                            const char *key,
                                            const uint8_t **ep, size_t *len);

/* ------------------------------------------------------------------------ */
/* Composite keys                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Build the composite key for object type `type` and attributes attrs[0..n)
 * (*key borrowed from the transaction arena). On the wire it is
 * 0x00 type 0x00 attr1 0x00 ... attrN 0x00. Each part must be valid UTF-8
 * and must not contain U+0000 or U+10FFFF (HLF_EINVAL otherwise). As in
 * Go, `type` may be empty, although a non-empty type is good practice.
 */
int hlf_stub_create_composite_key(hlf_stub_t *stub, const char *type,
                                  const char *const *attrs, size_t n,
                                  const char **key);

/*
 * Split a composite key into its type and attributes (all borrowed from the
 * transaction arena). HLF_EINVAL if key is not a composite key.
 */
int hlf_stub_split_composite_key(hlf_stub_t *stub, const char *key,
                                 const char **type,
                                 const char *const **attrs, size_t *n);

/*
 * Stub-less versions, for tools and tests. hlf_composite_key_create: *key is
 * new (free()). hlf_composite_key_split: *parts is new (free() once; the
 * strings live in the same block); parts[0] is the type and parts[1..*n] the
 * attributes, so the block holds *n + 1 strings.
 */
int hlf_composite_key_create(const char *type, const char *const *attrs,
                             size_t n, char **key);
int hlf_composite_key_split(const char *key, char ***parts, size_t *n);

/*
 * Convert between this API's key form and the wire form (U+0000 as a real
 * 0x00 byte). to_wire: *wire is new (free()), *len its length (the block is
 * also NUL-terminated). from_wire: *key is new (free()). Both validate UTF-8
 * and return HLF_EINVAL for invalid input.
 */
int hlf_key_to_wire(const char *key, char **wire, size_t *len);
int hlf_key_from_wire(const char *wire, size_t len, char **key);

/* 1 if s[0..len) is valid UTF-8 (RFC 3629: no overlongs, no surrogates). */
int hlf_utf8_valid(const char *s, size_t len);

/* ------------------------------------------------------------------------ */
/* Events and chaincode-to-chaincode calls                                  */
/* ------------------------------------------------------------------------ */

/*
 * Attach the chaincode event name/payload (both copied) to this
 * transaction; the last call wins. name must be non-empty (HLF_EINVAL).
 * The peer publishes the event only if the transaction commits valid.
 */
int hlf_stub_set_event(hlf_stub_t *stub, const char *name,
                       const void *payload, size_t len);

/*
 * Call chaincode `name` on `channel` (NULL or "" = this channel) with args
 * argv[0..argc) of lens[i] bytes, in this transaction's context. On HLF_OK
 * *resp holds the callee's response (message and payload borrowed from the
 * transaction arena); a callee failure is a response with status >= 400,
 * not an error code. HLF_EIO when the peer refuses the call.
 */
int hlf_stub_invoke_chaincode(hlf_stub_t *stub, const char *name,
                              const char *channel,
                              const uint8_t *const *argv,
                              const size_t *lens, size_t argc,
                              hlf_response_t *resp);

/* ------------------------------------------------------------------------ */
/* Chaincode server (chaincode as a service)                                */
/* ------------------------------------------------------------------------ */

/*
 * Server settings; the strings are borrowed for the duration of the call
 * that receives them (hlf_chaincode_server_new copies what it keeps).
 * address: "host:port" to listen on (port 0 picks a free port, see
 * hlf_chaincode_server_port). chaincode_id: the package id sent in
 * REGISTER; it must equal the installed package id. TLS is on when
 * tls_cert_file and tls_key_file (PEM files) are set; client_ca_file (PEM,
 * optional, needs TLS) makes the server require and verify client
 * certificates. workers: threads running transactions concurrently (<= 0
 * picks 8).
 */
typedef struct {
    const char *address;
    const char *chaincode_id;
    const char *tls_cert_file;
    const char *tls_key_file;
    const char *client_ca_file;
    int workers;
} hlf_chaincode_server_opts_t;

/*
 * Fill opts from the environment (strings borrowed from the environment):
 * CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS (required),
 * CHAINCODE_TLS_DISABLED ("true" by default; "false" enables TLS and then
 * requires CHAINCODE_TLS_CERT and CHAINCODE_TLS_KEY), CHAINCODE_CLIENT_CA_CERT
 * (optional, TLS only), HLF_SHIM_WORKERS (optional). Returns HLF_ECONFIG
 * with a message naming the variable when the configuration is incomplete
 * or contradictory. THREAD SAFETY: reads the environment; do not setenv
 * concurrently.
 */
int hlf_chaincode_server_opts_from_env(hlf_chaincode_server_opts_t *opts,
                                       hlf_error_t *err);

/*
 * Create a server and bind its address (nothing is served yet). *srv is
 * new: free with hlf_chaincode_server_free(). cc is borrowed until the
 * server is freed. HLF_EINVAL for bad options, HLF_ECONFIG when TLS files
 * cannot be read, HLF_EIO when the address cannot be bound.
 */
int hlf_chaincode_server_new(hlf_chaincode_server_t **srv,
                             const hlf_chaincode_server_opts_t *opts,
                             const hlf_chaincode_t *cc, hlf_error_t *err);

/* The bound TCP port (useful after binding port 0). */
int hlf_chaincode_server_port(const hlf_chaincode_server_t *srv);

/*
 * Serve peers until hlf_chaincode_server_shutdown(srv) or
 * hlf_chaincode_server_stop() is called, then close every stream, wait for
 * running transactions to finish and return HLF_OK. Call it once per
 * server, from one thread.
 */
int hlf_chaincode_server_serve(hlf_chaincode_server_t *srv, hlf_error_t *err);

/*
 * Ask srv to stop serving. THREAD SAFETY: callable from any thread and
 * from a signal handler (it only stores to an atomic flag); serve returns
 * within about 200 ms plus the time running transactions need.
 */
void hlf_chaincode_server_shutdown(hlf_chaincode_server_t *srv);

/* Free a server that is not serving (takes srv; NULL is a no-op). */
void hlf_chaincode_server_free(hlf_chaincode_server_t *srv);

/*
 * new + serve + free in one call: blocks until hlf_chaincode_server_stop().
 * Returns HLF_OK after a clean stop or the error that prevented serving.
 */
int hlf_chaincode_server_run(const hlf_chaincode_server_opts_t *opts,
                             const hlf_chaincode_t *cc, hlf_error_t *err);

/*
 * Stop every server of this process. Async-signal-safe: call it from a
 * SIGTERM/SIGINT handler. A server started after the call is not affected.
 */
void hlf_chaincode_server_stop(void);

#ifdef __cplusplus
}
#endif
#endif /* HLF_SHIM_H */
