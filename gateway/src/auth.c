/* SPDX-License-Identifier: Apache-2.0 */
/*
 * API key authentication and per-key rate limiting.
 *
 * The config holds only SHA-256 digests of the bearer tokens, so a leaked
 * config file does not leak usable keys. A presented token is hashed and
 * compared with every configured digest in constant time (no early exit on
 * a match or a mismatching byte), so response timing tells an attacker
 * neither which key nor how many bytes matched. Each key has a token
 * bucket (rate_limit_rps refill, rate_limit_burst capacity).
 */
#include "gw.h"

#include "hlf/crypto.h"
#include "hlf/mem.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

typedef struct bucket_s {
    pthread_mutex_t lock; /* guards tokens and last_ms */
    double tokens;
    int64_t last_ms;
} bucket_t;

/* Set up on the main thread by gw_auth_init before the daemon starts and
 * freed after it stopped; the buckets carry their own locks. */
static const gw_config_t *auth_cfg;
static bucket_t *buckets;
static atomic_uint_fast64_t compares; /* statistics, lock-free */

uint64_t
gw_auth_compares(void)
{
    return atomic_load(&compares);
}

int
gw_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    size_t i;

    for (i = 0; i < n; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    /* 1 when diff == 0, computed without a data-dependent branch. */
    return (int)(1 & ((diff - 1u) >> 8));
}

int
gw_auth_init(const gw_config_t *cfg)
{
    /* One bucket per API key, then one per client certificate. */
    size_t i, all = cfg->napikeys + cfg->nclientcerts;

    gw_auth_free();
    buckets = hlf_calloc(all ? all : 1, sizeof(*buckets));
    if (buckets == NULL)
        return HLF_ENOMEM;
    for (i = 0; i < all; i++) {
        pthread_mutex_init(&buckets[i].lock, NULL);
        buckets[i].tokens = cfg->rate_limit_burst;
        buckets[i].last_ms = gw_now_ms();
    }
    auth_cfg = cfg;
    return HLF_OK;
}

void
gw_auth_free(void)
{
    size_t i;

    if (buckets != NULL && auth_cfg != NULL)
        for (i = 0; i < auth_cfg->napikeys + auth_cfg->nclientcerts; i++)
            pthread_mutex_destroy(&buckets[i].lock);
    hlf_free(buckets);
    buckets = NULL;
    auth_cfg = NULL;
}

const gw_apikey_t *
gw_auth_lookup(const char *token, size_t len)
{
    uint8_t digest[HLF_SHA256_LEN];
    const gw_apikey_t *found = NULL;
    size_t i;

    if (auth_cfg == NULL || token == NULL || len == 0)
        return NULL;
    hlf_sha256(token, len, digest);
    for (i = 0; i < auth_cfg->napikeys; i++) {
        const gw_apikey_t *k = &auth_cfg->apikeys[i];

        /* Every key is compared; digests are unique (config check). */
        if (gw_ct_equal(digest, k->sha256, sizeof(digest)))
            found = k;
    }
    atomic_fetch_add(&compares, auth_cfg->napikeys);
    hlf_wipe(digest, sizeof(digest));
    return found;
}

const gw_apikey_t *
gw_auth_lookup_cert(const uint8_t fingerprint[32])
{
    const gw_apikey_t *found = NULL;
    size_t i;

    if (auth_cfg == NULL || fingerprint == NULL)
        return NULL;
    for (i = 0; i < auth_cfg->nclientcerts; i++) {
        const gw_apikey_t *k = &auth_cfg->clientcerts[i];

        /* As for keys: every entry compared, in constant time. */
        if (gw_ct_equal(fingerprint, k->sha256, 32))
            found = k;
    }
    atomic_fetch_add(&compares, auth_cfg->nclientcerts);
    return found;
}

int
gw_auth_rate_take(const gw_apikey_t *key, int *retry_after_s)
{
    const gw_config_t *cfg = auth_cfg;
    bucket_t *b;
    int64_t now;
    int rc = HLF_OK;

    if (cfg == NULL || key == NULL || cfg->rate_limit_rps <= 0)
        return HLF_OK;
    if (key >= cfg->apikeys && key < cfg->apikeys + cfg->napikeys)
        b = &buckets[key - cfg->apikeys];
    else if (cfg->nclientcerts > 0 && key >= cfg->clientcerts &&
             key < cfg->clientcerts + cfg->nclientcerts)
        b = &buckets[cfg->napikeys + (size_t)(key - cfg->clientcerts)];
    else
        return HLF_EINVAL;
    now = gw_now_ms();
    pthread_mutex_lock(&b->lock);
    b->tokens += (double)(now - b->last_ms) * cfg->rate_limit_rps / 1000.0;
    if (b->tokens > cfg->rate_limit_burst)
        b->tokens = cfg->rate_limit_burst;
    b->last_ms = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        double wait = (1.0 - b->tokens) / cfg->rate_limit_rps;
        int s = (int)ceil(wait);

        if (retry_after_s != NULL)
            *retry_after_s = s < 1 ? 1 : s;
        rc = HLF_EAGAIN;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}
