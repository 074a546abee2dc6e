/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Referral tracking and off-chain documents on the real network (issue 5
 * §5, §6), through the network's own reso-gateway and the peers:
 *
 * - a referral split into two sub-referrals (one split again) recorded by
 *   three orgs over REST (each with the demo Recorder registered to it:
 *   Recorder binding is strict) plays back as one tree in order, over REST
 *   (GET /v1/referrals) and from another org's peer (GetReferral); a bad
 *   parent is refused with its code and field;
 * - a certificate stored with POST /v1/documents gets the CID computed
 *   independently here, is served back byte for byte, and an association
 *   Education event references it in Context.OffchainAddress;
 * - resoctl referral show and doc put|get agree with the REST answers.
 *
 * Both need the extended profile (RCP-005 and association values). If the
 * channel runs another one, the test activates the extended profile
 * through catalog governance (an admin proposes, admins of two of the
 * three member orgs approve) and restores the previous one at the end,
 * so later tests see what they expect. The switch happens once around
 * all tests, in the parent process of the per-test forks, so an aborted
 * test cannot skip the restore.
 */
#include "cid.h"
#include "gwtest.h"
#include "netfixture.h"
#include "task.h"

#include "hlf/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXT "1.5-ext"

static json_t *g_env;
static int g_port;
static char g_restore[64]; /* profile to re-activate at the end, or "" */
static char g_tag[17];     /* per-run suffix of subjects */

/* ------------------------------------------------------------------ */
/* Ledger calls through the peers                                     */
/* ------------------------------------------------------------------ */

/* fn(arg) (no argument when arg is NULL) as org's user; *out the JSON. */
static int
call(const char *org, const char *user, int submit, const char *fn,
     const char *arg, json_t **out)
{
    reso_org_t o;
    hlf_bytes_t a = hlf_bytes_str(arg != NULL ? arg : ""), res = {0};
    size_t nargs = arg != NULL ? 1 : 0;
    hlf_error_t e;
    char why[512];
    int rc;

    if (reso_netenv_open_org(g_env, org, user, &o, why, sizeof(why)) != 0)
        TEST__FAIL("open %s %s: %s", org, user, why);
    hlf_error_clear(&e);
    rc = submit ? hlf_contract_submit(o.contract, fn, &a, nargs, &res, &e)
                : hlf_contract_evaluate(o.contract, fn, &a, nargs, &res,
                                        &e);
    if (rc != HLF_OK)
        fprintf(stderr, "%s %s by %s %s: %s %s\n", submit ? "submit"
                : "evaluate", fn, org, user, e.text, e.chaincode_message);
    if (out != NULL)
        *out = rc == HLF_OK ? json_loadb((const char *)res.data, res.len,
                                         0, NULL)
                            : NULL;
    hlf_bytes_free(&res);
    reso_netenv_close_org(&o);
    return rc;
}

static char *
active_profile(void)
{
    json_t *cat = NULL;
    char *v;

    ASSERT_EQ(call("Brokerage", "client", 0, "GetCatalog", NULL, &cat),
              HLF_OK);
    v = strdup(netfx_str(cat, "Version"));
    json_decref(cat);
    return v;
}

/* Governance: propose ActivateProfile version, approve by two admins. */
static void
activate(const char *version)
{
    static const char *const approvers[] = {"Brokerage", "Association"};
    char change[128];
    json_t *prop = NULL, *after = NULL;
    char id[64];
    size_t i;

    snprintf(change, sizeof(change),
             "{\"Kind\":\"ActivateProfile\",\"Version\":\"%s\"}", version);
    ASSERT_EQ(call("Brokerage", "admin", 1, "ProposeCatalogChange", change,
                   &prop), HLF_OK);
    snprintf(id, sizeof(id), "%s", netfx_str(prop, "Id"));
    json_decref(prop);
    for (i = 0; i < 2; i++) {
        ASSERT_EQ(call(approvers[i], "admin", 1, "ApproveCatalogChange", id,
                       &after), HLF_OK);
        json_decref(after);
    }
}

/*
 * Run fn in a child process and wait: the parent never opens a gRPC
 * connection, so the test runner's fork per test stays safe and the
 * profile is restored by the parent even when a test aborted.
 */
static int
in_child(void (*fn)(int fd), char *out, size_t n)
{
    int fds[2], status = 0;
    ssize_t got;
    pid_t pid;

    ASSERT_EQ(pipe(fds), 0);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        fn(fds[1]);
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    got = read(fds[0], out, n - 1);
    out[got > 0 ? got : 0] = '\0';
    close(fds[0]);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Child: make the extended profile active; write the previous one. */
static void
ensure_ext(int fd)
{
    char *prof = active_profile();

    if (strcmp(prof, EXT) != 0) {
        activate(EXT);
        if (write(fd, prof, strlen(prof)) != (ssize_t)strlen(prof))
            TEST__FAIL("pipe write failed");
        free(prof);
        prof = active_profile();
    }
    ASSERT_STR_EQ(prof, EXT);
    free(prof);
}

/* Child: activate g_restore again. */
static void
restore(int fd)
{
    char *prof;

    (void)fd;
    activate(g_restore);
    prof = active_profile();
    ASSERT_STR_EQ(prof, g_restore);
    free(prof);
}

static void
setup(void)
{
    const char *url;
    char *end;
    uint8_t r[8];
    long port;

    g_env = netfx_env();
    url = json_string_value(json_object_get(
        json_object_get(g_env, "gateway"), "url"));
    if (url == NULL)
        RETURN_SKIP("the network runs without reso-gateway");
    ASSERT_EQ(strncmp(url, "http://127.0.0.1:", 17), 0);
    port = strtol(url + 17, &end, 10);
    ASSERT(port > 0 && port < 65536 && *end == '\0');
    g_port = (int)port;
    ASSERT_EQ(hlf_random_bytes(r, sizeof(r)), HLF_OK);
    hlf_hex_encode(r, sizeof(r), g_tag);
}

/* ------------------------------------------------------------------ */
/* resoctl                                                            */
/* ------------------------------------------------------------------ */

/*
 * Run `$RESOCTL <args> --run-dir <fixture run dir>` (args: a shell-safe
 * string of our own making); stdout into a new string (free()), the exit
 * status into *status.
 */
static char *
resoctl(const char *args, int *status)
{
    char *run = netfx_run_dir(), cmd[2048], chunk[4096], *out = NULL;
    size_t len = 0, n;
    FILE *p;
    int st;

    snprintf(cmd, sizeof(cmd), "'%s' %s --run-dir '%s'", getenv("RESOCTL"),
             args, run);
    free(run);
    p = popen(cmd, "r");
    ASSERT_NOT_NULL(p);
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
        char *nb = realloc(out, len + n + 1);

        ASSERT_NOT_NULL(nb);
        out = nb;
        memcpy(out + len, chunk, n);
        len += n;
        out[len] = '\0';
    }
    st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (out == NULL)
        out = strdup("");
    return out;
}

/* ------------------------------------------------------------------ */
/* REST through the network's gateway                                 */
/* ------------------------------------------------------------------ */

static const char *
key_of(const char *org)
{
    return netfx_str(json_object_get(json_object_get(g_env, "gateway"),
                                     "api_keys"),
                     org);
}

static void
rest(const char *org, const char *method, const char *path,
     const char *ctype, const char *body, size_t len, gwt_resp_t *r)
{
    char auth[256], ct[128];
    const char *hdrs[3] = {auth, ct, NULL};
    gwt_opts_t o = {0};

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key_of(org));
    snprintf(ct, sizeof(ct), "Content-Type: %s",
             ctype != NULL ? ctype : "application/json");
    o.headers = hdrs;
    o.body = body;
    o.body_len = len;
    o.timeout_ms = 60000;
    gwt_http(method, g_port, path, &o, r);
    if (r->curl_rc != 0)
        TEST__FAIL("%s %s: curl error %d", method, path, r->curl_rc);
}

/*
 * Record one referral event as org over REST with org's demo Recorder
 * (Recorder binding is strict); returns the HTTP status.
 */
static long
rec(const char *org, const char *subject, const char *stype,
    const char *event, const char *state, const char *parent,
    json_t **err)
{
    char buf[1024], ctx[256] = "";
    gwt_resp_t r;
    long status;

    if (parent != NULL)
        snprintf(ctx, sizeof(ctx),
                 ",\"Context\":{\"ParentReferral\":\"%s\"}", parent);
    snprintf(buf, sizeof(buf),
             "{\"EventSubject\":\"%s\","
             "\"System\":\"Referral Marketplace Service\","
             "\"SubjectType\":\"%s\",\"Entity\":\"Broker\","
             "\"Event\":\"%s\",\"State\":\"%s\","
             "\"Recorder\":\"%s\",\"Application\":\"referral-it\"%s}",
             subject, stype, event, state, netfx_recorder(g_env, org), ctx);
    rest(org, "POST", "/v1/events", NULL, buf, strlen(buf), &r);
    status = r.status;
    if (err != NULL)
        *err = json_loads(r.body, 0, NULL);
    else if (status != 201)
        TEST__FAIL("%s %s/%s by %s: %ld %s", subject, event, state, org,
                   status, r.body);
    gwt_resp_free(&r);
    return status;
}

/* "Event/State,..." of a tree node's events. */
static void
steps(json_t *node, char *buf, size_t n)
{
    json_t *evs = json_object_get(node, "Events");
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < json_array_size(evs); i++) {
        json_t *ev = json_array_get(evs, i);

        o += (size_t)snprintf(buf + o, n - o, "%s%s/%s", i ? "," : "",
                              netfx_str(ev, "Event"),
                              netfx_str(ev, "State"));
        ASSERT(o < n);
    }
}

static json_t *
kid(json_t *node, size_t i)
{
    return json_array_get(json_object_get(node, "Subreferrals"), i);
}

static size_t
nkids(json_t *node)
{
    return json_array_size(json_object_get(node, "Subreferrals"));
}

/* The whole expected tree, exactly. */
static void
check_tree(json_t *t, const char *ref, const char *sa, const char *sb,
           const char *sc)
{
    char buf[512];

    ASSERT_STR_EQ(netfx_str(t, "EventSubject"), ref);
    steps(t, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "Referral/Created,Source/Added,Destination/Added,"
                       "Compensation/Added,Subreferrals/Splitted,"
                       "Referral/Accepted,Referral/Closed");
    ASSERT_EQ(nkids(t), 2);
    /* Link order: B was split off before A. */
    ASSERT_STR_EQ(netfx_str(kid(t, 0), "EventSubject"), sb);
    steps(kid(t, 0), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "Referral/Created,Compensation/Added,"
                       "Subreferrals/Splitted,Referral/Accepted");
    ASSERT_STR_EQ(netfx_str(kid(t, 1), "EventSubject"), sa);
    steps(kid(t, 1), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "Referral/Created,Destination/Added");
    ASSERT_EQ(nkids(kid(t, 1)), 0);
    ASSERT_EQ(nkids(kid(t, 0)), 1);
    ASSERT_STR_EQ(netfx_str(kid(kid(t, 0), 0), "EventSubject"), sc);
    steps(kid(kid(t, 0), 0), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "Referral/Created");
    ASSERT_EQ(nkids(kid(kid(t, 0), 0)), 0);
}

TEST_IMPL(referral_split_plays_back_as_one_tree)
{
    char ref[64], sa[64], sb[64], sc[64], path[128];
    json_t *tree = NULL, *err = NULL, *e;
    gwt_resp_t r;
    int tries;

    snprintf(ref, sizeof(ref), "REF-%s", g_tag);
    snprintf(sa, sizeof(sa), "SUBA-%s", g_tag);
    snprintf(sb, sizeof(sb), "SUBB-%s", g_tag);
    snprintf(sc, sizeof(sc), "SUBC-%s", g_tag);
    rec("Brokerage", ref, "Referral", "Referral", "Created", NULL, NULL);
    rec("Brokerage", ref, "Referral", "Source", "Added", NULL, NULL);
    rec("MLS", ref, "Referral", "Destination", "Added", NULL, NULL);
    rec("Brokerage", ref, "Referral", "Compensation", "Added", NULL, NULL);
    rec("Brokerage", ref, "Referral", "Subreferrals", "Splitted", NULL,
        NULL);
    rec("Brokerage", sb, "Subreferral", "Referral", "Created", ref, NULL);
    rec("Association", sa, "Subreferral", "Referral", "Created", ref, NULL);
    rec("MLS", sb, "Subreferral", "Compensation", "Added", NULL, NULL);
    rec("MLS", sa, "Subreferral", "Destination", "Added", ref, NULL);
    rec("Brokerage", sb, "Subreferral", "Subreferrals", "Splitted", NULL,
        NULL);
    rec("Brokerage", sc, "Subreferral", "Referral", "Created", sb, NULL);
    rec("Association", sb, "Subreferral", "Referral", "Accepted", NULL,
        NULL);
    rec("Brokerage", ref, "Referral", "Referral", "Accepted", NULL, NULL);
    rec("MLS", ref, "Referral", "Referral", "Closed", NULL, NULL);

    /* A parent that is no referral: refused, nothing recorded. */
    ASSERT_EQ(rec("Brokerage", "SUBX-ORPHAN", "Subreferral", "Referral",
                  "Created", "NO-SUCH-REFERRAL", &err), 400);
    e = json_object_get(err, "error");
    ASSERT_STR_EQ(netfx_str(e, "code"), "INVALID_VALUE");
    ASSERT_STR_EQ(netfx_str(e, "field"), "Context.ParentReferral");
    json_decref(err);
    /* A first sub-referral event without a parent. */
    ASSERT_EQ(rec("Brokerage", "SUBX-ORPHAN", "Subreferral", "Referral",
                  "Created", NULL, &err), 400);
    ASSERT_STR_EQ(netfx_str(json_object_get(err, "error"), "code"),
                  "MISSING_FIELD");
    json_decref(err);

    /* Over REST, as the org that recorded most of it. */
    snprintf(path, sizeof(path), "/v1/referrals/%s", ref);
    rest("Brokerage", "GET", path, NULL, NULL, 0, &r);
    ASSERT_EQ(r.status, 200);
    tree = json_loads(r.body, 0, NULL);
    ASSERT_NOT_NULL(tree);
    check_tree(tree, ref, sa, sb, sc);
    json_decref(tree);
    gwt_resp_free(&r);

    /* From another org's peer: the same tree once its peer caught up. */
    for (tries = 0;; tries++) {
        ASSERT_EQ(call("MLS", "client", 0, "GetReferral", ref, &tree),
                  HLF_OK);
        if (json_array_size(json_object_get(tree, "Events")) == 7 ||
            tries == 50)
            break;
        json_decref(tree);
        gwt_sleep_ms(200);
    }
    check_tree(tree, ref, sa, sb, sc);
    json_decref(tree);

    /* resoctl referral show prints the same tree. */
    {
        char args[128], *out;
        json_t *viacli;
        int st;

        snprintf(args, sizeof(args), "referral show %s --org Association",
                 ref);
        out = resoctl(args, &st);
        ASSERT_EQ(st, 0);
        viacli = json_loads(out, 0, NULL);
        ASSERT_NOT_NULL(viacli);
        check_tree(viacli, ref, sa, sb, sc);
        json_decref(viacli);
        free(out);
        out = resoctl("referral show NO-SUCH-REFERRAL 2>/dev/null", &st);
        ASSERT_EQ(st, 6); /* RESOCTL_EXIT_NOTFOUND */
        free(out);
    }

    /* Unknown referral: 404 with the chaincode's code. */
    rest("MLS", "GET", "/v1/referrals/NO-SUCH-REFERRAL", NULL, NULL, 0, &r);
    ASSERT_EQ(r.status, 404);
    err = json_loads(r.body, 0, NULL);
    ASSERT_STR_EQ(netfx_str(json_object_get(err, "error"), "code"),
                  "EVENT_NOT_FOUND");
    json_decref(err);
    gwt_resp_free(&r);
}

TEST_IMPL(education_event_with_offchain_certificate)
{
    char cert[512], cid[GW_CID_BUFSZ], addr[64], path[128], ev[1024];
    json_t *j, *stored;
    gwt_resp_t r;
    int n;

    n = snprintf(cert, sizeof(cert),
                 "Certificate of completion\ncourse ETH-101 Ethics\n"
                 "member %s\nyear 2026\n", g_tag);
    ASSERT_EQ(gw_cid_of_buffer(cert, (size_t)n, cid), HLF_OK);
    rest("Association", "POST", "/v1/documents", "text/plain", cert,
         (size_t)n, &r);
    ASSERT_EQ(r.status, 201);
    j = json_loads(r.body, 0, NULL);
    ASSERT_STR_EQ(netfx_str(j, "cid"), cid);
    snprintf(addr, sizeof(addr), "urn:ipfs:%s", cid);
    ASSERT_STR_EQ(netfx_str(j, "address"), addr);
    ASSERT_EQ(json_integer_value(json_object_get(j, "size")), n);
    json_decref(j);
    gwt_resp_free(&r);

    /* Another org reads it back byte for byte. */
    snprintf(path, sizeof(path), "/v1/documents/%s", addr);
    rest("MLS", "GET", path, NULL, NULL, 0, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, (size_t)n);
    ASSERT_MEM_EQ(r.body, cert, (size_t)n);
    gwt_resp_free(&r);

    /* resoctl stores and fetches the same document, checking the CID. */
    {
        char args[256], file[] = "/tmp/reso-cert-XXXXXX", *out;
        json_t *put;
        FILE *fp;
        int fd, st;

        fd = mkstemp(file);
        ASSERT(fd >= 0);
        fp = fdopen(fd, "wb");
        ASSERT_NOT_NULL(fp);
        ASSERT_EQ(fwrite(cert, 1, (size_t)n, fp), (size_t)n);
        ASSERT_EQ(fclose(fp), 0);
        snprintf(args, sizeof(args), "doc put %s --org MLS", file);
        out = resoctl(args, &st);
        unlink(file);
        ASSERT_EQ(st, 0);
        put = json_loads(out, 0, NULL);
        ASSERT_STR_EQ(netfx_str(put, "address"), addr);
        json_decref(put);
        free(out);
        snprintf(args, sizeof(args), "doc get %s --org Brokerage", addr);
        out = resoctl(args, &st);
        ASSERT_EQ(st, 0);
        ASSERT_EQ(strlen(out), (size_t)n);
        ASSERT_MEM_EQ(out, cert, (size_t)n);
        free(out);
    }

    /* The association records the Education event that points at it. */
    snprintf(ev, sizeof(ev),
             "{\"EventSubject\":\"MBR-%s\","
             "\"System\":\"Association Management System\","
             "\"SubjectType\":\"Member\",\"Entity\":\"Association\","
             "\"Event\":\"Education\",\"State\":\"Recorded\","
             "\"Recorder\":\"%s\",\"Application\":\"ams-it\","
             "\"Context\":{\"CourseCode\":\"ETH-101\","
             "\"CompletionDate\":\"2026-11-21\","
             "\"OffchainAddress\":\"%s\"}}",
             g_tag, netfx_recorder(g_env, "Association"), addr);
    rest("Association", "POST", "/v1/events", NULL, ev, strlen(ev), &r);
    if (r.status != 201)
        TEST__FAIL("Education event: %ld %s", r.status, r.body);
    j = json_loads(r.body, 0, NULL);
    stored = json_object_get(j, "event");
    ASSERT_STR_EQ(netfx_str(stored, "Version"), EXT);
    ASSERT_STR_EQ(netfx_str(stored, "Recorder"),
                  netfx_recorder(g_env, "Association"));
    ASSERT_STR_EQ(netfx_str(json_object_get(stored, "Context"),
                            "OffchainAddress"),
                  addr);
    json_decref(j);
    gwt_resp_free(&r);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(referral_split_plays_back_as_one_tree),
    TEST_ENTRY(education_event_with_offchain_certificate),
};

/*
 * The profile switch brackets all tests, in the parent (see in_child).
 * Exit status: the runner's, or 1 when the previous profile could not be
 * restored.
 */
int
main(int argc, char **argv)
{
    int rc;

    setup();
    if (in_child(ensure_ext, g_restore, sizeof(g_restore)) != 0) {
        fprintf(stderr, "could not activate profile %s\n", EXT);
        return 1;
    }
    rc = test_run_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
    if (g_restore[0] != '\0') {
        char none[8];

        if (in_child(restore, none, sizeof(none)) != 0) {
            fprintf(stderr, "could not re-activate profile %s\n",
                    g_restore);
            rc = 1;
        }
    }
    json_decref(g_env);
    return rc;
}
