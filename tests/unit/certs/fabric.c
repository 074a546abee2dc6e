/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Smoke tests showing that real Fabric 2.5 accepts reso-certs material:
 * configtxgen builds a genesis block from the org MSPs, the peer CLI sets
 * up every local MSP (CA checks, NodeOUs, keystore lookup), and an orderer
 * started on the orderer's TLS pair and local MSP joins the channel as its
 * only Raft consenter through osnadmin's mutual-TLS admin API. Each test
 * also runs a negative control to show the check has teeth. They skip
 * when the Fabric binaries are not installed (FABRIC_BIN_DIR, or
 * ${RESO_CACHE:-$HOME/.cache/reso-ledger}/fabric-v2.5.16/bin).
 */
#include "check.h"

#include "task.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHANNEL "reso-events"
#define ORD_DOMAIN "orderer.reso.example"
#define ORD_NODE "orderer0." ORD_DOMAIN
#define BRK_DOMAIN "brokerage.reso.example"

/* A generated network plus the scratch files of one test. */
struct env {
    char *dir;                /* test directory */
    char crypto[PATH_MAX];    /* dir/crypto */
    char bin[PATH_MAX];       /* Fabric bin directory */
};

static int
fabric_bin_dir(char *out, size_t size)
{
    const char *dir = getenv("FABRIC_BIN_DIR");
    const char *cache = getenv("RESO_CACHE");
    const char *home = getenv("HOME");
    char probe[PATH_MAX + 32];

    if (dir != NULL && dir[0] != '\0')
        check_fmt(out, size, "%s", dir);
    else if (cache != NULL && cache[0] != '\0')
        check_fmt(out, size, "%s/fabric-v2.5.16/bin", cache);
    else
        check_fmt(out, size, "%s/.cache/reso-ledger/fabric-v2.5.16/bin",
                 home != NULL ? home : "/root");
    check_fmt(probe, sizeof(probe), "%s/configtxgen", out);
    return access(probe, X_OK) == 0;
}

static void
env_setup(struct env *e)
{
    char *argv[5];

    if (!fabric_bin_dir(e->bin, sizeof(e->bin)))
        RETURN_SKIP("Fabric 2.5 binaries not installed "
                    "(network/install-fabric.sh)");
    e->dir = check_tmpdir();
    check_fmt(e->crypto, sizeof(e->crypto), "%s/crypto", e->dir);
    argv[0] = (char *)check_certs_bin();
    argv[1] = "generate";
    argv[2] = "--out";
    argv[3] = e->crypto;
    argv[4] = NULL;
    ASSERT_EQ(check_run(argv, NULL, NULL, NULL), 0);
}

static void
env_free(struct env *e)
{
    check_rmtree(e->dir);
    free(e->dir);
}

/* Copy <from>/<rel> to <to>/<rel>; the directory of the target exists. */
static void
copy_rel(const char *from, const char *to, const char *rel)
{
    char src[PATH_MAX + 128], dst[PATH_MAX + 128];
    char *data;

    check_fmt(src, sizeof(src), "%s/%s", from, rel);
    check_fmt(dst, sizeof(dst), "%s/%s", to, rel);
    data = check_read(src, NULL);
    check_write(dst, data);
    free(data);
}

/* Make directory <base>/<rel>. */
static void
make_dir(const char *base, const char *rel)
{
    char path[PATH_MAX + 64];

    check_fmt(path, sizeof(path), "%s%s%s", base, rel[0] ? "/" : "", rel);
    ASSERT_EQ(mkdir(path, 0755), 0);
}

/* A loopback TCP port that was free a moment ago. */
static int
free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ASSERT_GE(fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* configtx.yaml: orderer org + Brokerage, one etcdraft consenter. */
static void
write_configtx(const struct env *e, const char *brk_msp, int port)
{
    char path[PATH_MAX + 32], *text = malloc(16384);
    const char *c = e->crypto;

    ASSERT_NOT_NULL(text);
    check_fmt(
        text, 16384,
        "Organizations:\n"
        "  - &Ord\n"
        "    Name: Orderer\n"
        "    ID: OrdererMSP\n"
        "    MSPDir: %s/ordererOrganizations/" ORD_DOMAIN "/msp\n"
        "    Policies:\n"
        "      Readers: {Type: Signature, Rule: \"OR('OrdererMSP.member')\"}\n"
        "      Writers: {Type: Signature, Rule: \"OR('OrdererMSP.member')\"}\n"
        "      Admins: {Type: Signature, Rule: \"OR('OrdererMSP.admin')\"}\n"
        "    OrdererEndpoints: [127.0.0.1:%d]\n"
        "  - &Brk\n"
        "    Name: Brokerage\n"
        "    ID: BrokerageMSP\n"
        "    MSPDir: %s\n"
        "    Policies:\n"
        "      Readers: {Type: Signature,\n"
        "                Rule: \"OR('BrokerageMSP.member')\"}\n"
        "      Writers: {Type: Signature,\n"
        "                Rule: \"OR('BrokerageMSP.member')\"}\n"
        "      Admins: {Type: Signature, Rule: \"OR('BrokerageMSP.admin')\"}\n"
        "      Endorsement: {Type: Signature,\n"
        "                    Rule: \"OR('BrokerageMSP.peer')\"}\n"
        "Capabilities:\n"
        "  Channel: &ChCap {V2_0: true}\n"
        "  Orderer: &OrdCap {V2_0: true}\n"
        "  Application: &AppCap {V2_5: true}\n"
        "Application: &App\n"
        "  Organizations:\n"
        "  Policies:\n"
        "    Readers: {Type: ImplicitMeta, Rule: \"ANY Readers\"}\n"
        "    Writers: {Type: ImplicitMeta, Rule: \"ANY Writers\"}\n"
        "    Admins: {Type: ImplicitMeta, Rule: \"MAJORITY Admins\"}\n"
        "    LifecycleEndorsement: {Type: ImplicitMeta, Rule: \"MAJORITY "
        "Endorsement\"}\n"
        "    Endorsement: {Type: ImplicitMeta, Rule: \"MAJORITY "
        "Endorsement\"}\n"
        "  Capabilities: *AppCap\n"
        "Orderer: &OrdDefaults\n"
        "  OrdererType: etcdraft\n"
        "  BatchTimeout: 500ms\n"
        "  BatchSize: {MaxMessageCount: 10, AbsoluteMaxBytes: 10 MB, "
        "PreferredMaxBytes: 2 MB}\n"
        "  EtcdRaft:\n"
        "    Consenters:\n"
        "      - Host: 127.0.0.1\n"
        "        Port: %d\n"
        "        ClientTLSCert: %s/ordererOrganizations/" ORD_DOMAIN
        "/orderers/" ORD_NODE "/tls/server.crt\n"
        "        ServerTLSCert: %s/ordererOrganizations/" ORD_DOMAIN
        "/orderers/" ORD_NODE "/tls/server.crt\n"
        "  Organizations:\n"
        "  Policies:\n"
        "    Readers: {Type: ImplicitMeta, Rule: \"ANY Readers\"}\n"
        "    Writers: {Type: ImplicitMeta, Rule: \"ANY Writers\"}\n"
        "    Admins: {Type: ImplicitMeta, Rule: \"MAJORITY Admins\"}\n"
        "    BlockValidation: {Type: ImplicitMeta, Rule: \"ANY Writers\"}\n"
        "  Capabilities: *OrdCap\n"
        "Channel: &ChDefaults\n"
        "  Policies:\n"
        "    Readers: {Type: ImplicitMeta, Rule: \"ANY Readers\"}\n"
        "    Writers: {Type: ImplicitMeta, Rule: \"ANY Writers\"}\n"
        "    Admins: {Type: ImplicitMeta, Rule: \"MAJORITY Admins\"}\n"
        "  Capabilities: *ChCap\n"
        "Profiles:\n"
        "  Smoke:\n"
        "    <<: *ChDefaults\n"
        "    Orderer: {<<: *OrdDefaults, Organizations: [*Ord]}\n"
        "    Application: {<<: *App, Organizations: [*Brk]}\n",
        c, port, brk_msp, port, c, c);
    check_fmt(path, sizeof(path), "%s/configtx.yaml", e->dir);
    check_write(path, text);
    free(text);
}

/* Run configtxgen on the test's configtx.yaml; returns its status. */
static int
configtxgen(const struct env *e, const char *block, char **err)
{
    char tool[PATH_MAX + 16];
    char *argv[] = {tool,      "-configPath", e->dir,     "-profile",
                    "Smoke",   "-channelID",  CHANNEL,    "-outputBlock",
                    (char *)block, NULL};

    check_fmt(tool, sizeof(tool), "%s/configtxgen", e->bin);
    return check_run(argv, NULL, NULL, err);
}

/* base64 of a file's bytes, as protobuf JSON prints bytes fields. */
static char *
file_base64(const char *path)
{
    size_t len = 0;
    char *data = check_read(path, &len);
    char *b64 = malloc(4 * (len / 3 + 1) + 1);

    ASSERT_NOT_NULL(b64);
    ASSERT_GE(EVP_EncodeBlock((unsigned char *)b64,
                              (const unsigned char *)data, (int)len),
              1);
    free(data);
    return b64;
}

TEST_IMPL(configtxgen_builds_genesis_block)
{
    struct env e;
    char msp[PATH_MAX], block[PATH_MAX], bad[PATH_MAX], file[PATH_MAX];
    char tool[PATH_MAX + 16];
    char *err = NULL, *json = NULL, *b64;
    char *inspect[] = {tool, "-inspectBlock", block, NULL};

    env_setup(&e);
    check_fmt(msp, sizeof(msp), "%s/peerOrganizations/" BRK_DOMAIN "/msp",
             e.crypto);
    check_fmt(block, sizeof(block), "%s/genesis.block", e.dir);
    write_configtx(&e, msp, 7050);
    ASSERT_EQ(configtxgen(&e, block, &err), 0);
    free(err);
    /* The channel config carries exactly our CA and TLS CA certificates. */
    check_fmt(tool, sizeof(tool), "%s/configtxgen", e.bin);
    ASSERT_EQ(check_run(inspect, NULL, &json, NULL), 0);
    ASSERT_NOT_NULL(strstr(json, "\"name\": \"BrokerageMSP\""));
    check_fmt(file, sizeof(file), "%s/cacerts/ca." BRK_DOMAIN "-cert.pem",
             msp);
    b64 = file_base64(file);
    ASSERT_NOT_NULL(strstr(json, b64));
    free(b64);
    check_fmt(file, sizeof(file),
             "%s/tlscacerts/tlsca." BRK_DOMAIN "-cert.pem", msp);
    b64 = file_base64(file);
    ASSERT_NOT_NULL(strstr(json, b64));
    free(b64);
    ASSERT_NOT_NULL(strstr(json, "\"organizational_unit_identifier\": "
                                 "\"orderer\""));
    free(json);

    /*
     * Control: configtxgen only reads an MSP (the checks come later, in
     * the peers and orderers), but it does reject a CA file that is not
     * PEM, which shows it loads the directory it is given.
     */
    check_fmt(bad, sizeof(bad), "%s/badmsp", e.dir);
    make_dir(bad, "");
    make_dir(bad, "cacerts");
    make_dir(bad, "tlscacerts");
    copy_rel(msp, bad, "config.yaml");
    copy_rel(msp, bad, "tlscacerts/tlsca." BRK_DOMAIN "-cert.pem");
    check_fmt(file, sizeof(file), "%s/cacerts/ca." BRK_DOMAIN "-cert.pem",
              bad);
    check_write(file, "not a certificate\n");
    write_configtx(&e, bad, 7050);
    ASSERT_NE(configtxgen(&e, block, &err), 0);
    ASSERT_NOT_NULL(strstr(err, "no pem content for file"));
    free(err);
    env_free(&e);
}

/*
 * Set up one local MSP with the peer CLI. `peer channel list` builds the
 * MSP (failing with "Cannot run peer because ...") before it dials the
 * peer, which here is a closed loopback port.
 */
static int
peer_cli_loads(const struct env *e, const char *msp, const char *msp_id,
               int closed_port, char **err)
{
    char tool[PATH_MAX + 16], cfg[PATH_MAX + 32], mspenv[PATH_MAX + 32];
    char idenv[128], addr[64];
    char *argv[] = {tool, "channel", "list", NULL};
    char *env[] = {cfg, mspenv, idenv, addr, "CORE_PEER_TLS_ENABLED=false",
                   NULL};

    check_fmt(tool, sizeof(tool), "%s/peer", e->bin);
    check_fmt(cfg, sizeof(cfg), "FABRIC_CFG_PATH=%s", e->dir);
    check_fmt(mspenv, sizeof(mspenv), "CORE_PEER_MSPCONFIGPATH=%s", msp);
    check_fmt(idenv, sizeof(idenv), "CORE_PEER_LOCALMSPID=%s", msp_id);
    check_fmt(addr, sizeof(addr), "CORE_PEER_ADDRESS=127.0.0.1:%d",
             closed_port);
    return check_run(argv, env, NULL, err);
}

TEST_IMPL(peer_cli_sets_up_every_local_msp)
{
    static const struct {
        const char *tree, *domain, *sub, *name, *msp_id;
    } ids[] = {
        {"ordererOrganizations", ORD_DOMAIN, "orderers", ORD_NODE,
         "OrdererMSP"},
        {"ordererOrganizations", ORD_DOMAIN, "users", "Admin@" ORD_DOMAIN,
         "OrdererMSP"},
        {"peerOrganizations", BRK_DOMAIN, "peers", "peer0." BRK_DOMAIN,
         "BrokerageMSP"},
        {"peerOrganizations", BRK_DOMAIN, "users", "Admin@" BRK_DOMAIN,
         "BrokerageMSP"},
        {"peerOrganizations", BRK_DOMAIN, "users", "User1@" BRK_DOMAIN,
         "BrokerageMSP"},
        {"peerOrganizations", "mls.reso.example", "peers",
         "peer0.mls.reso.example", "MLSMSP"},
    };
    char core[PATH_MAX + 16], msp[PATH_MAX], src[PATH_MAX];
    int port = free_port();
    struct env e;
    char *err;
    size_t i;

    env_setup(&e);
    check_fmt(core, sizeof(core), "%s/core.yaml", e.dir);
    check_write(core, "peer:\n  BCCSP:\n    Default: SW\n"
                      "    SW: {Hash: SHA2, Security: 256}\n");
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        check_fmt(msp, sizeof(msp), "%s/%s/%s/%s/%s/msp", e.crypto,
                 ids[i].tree, ids[i].domain, ids[i].sub, ids[i].name);
        err = NULL;
        ASSERT_NE(peer_cli_loads(&e, msp, ids[i].msp_id, port, &err), 0);
        if (strstr(err, "Cannot run peer because") != NULL)
            TEST__FAIL("%s rejected: %s", ids[i].name, err);
        ASSERT_NOT_NULL(strstr(err, "failed to connect to 127.0.0.1:"));
        free(err);
    }

    /* Control: a keystore key that does not match the signcert fails. */
    check_fmt(src, sizeof(src), "%s/peerOrganizations/" BRK_DOMAIN
             "/users/Admin@" BRK_DOMAIN "/msp", e.crypto);
    check_fmt(msp, sizeof(msp), "%s/badmsp", e.dir);
    make_dir(msp, "");
    make_dir(msp, "cacerts");
    make_dir(msp, "tlscacerts");
    make_dir(msp, "signcerts");
    make_dir(msp, "keystore");
    copy_rel(src, msp, "config.yaml");
    copy_rel(src, msp, "cacerts/ca." BRK_DOMAIN "-cert.pem");
    copy_rel(src, msp, "tlscacerts/tlsca." BRK_DOMAIN "-cert.pem");
    copy_rel(src, msp, "signcerts/Admin@" BRK_DOMAIN "-cert.pem");
    check_fmt(src, sizeof(src), "%s/peerOrganizations/" BRK_DOMAIN
             "/users/User1@" BRK_DOMAIN "/msp", e.crypto);
    copy_rel(src, msp, "keystore/priv_sk");
    err = NULL;
    ASSERT_NE(peer_cli_loads(&e, msp, "BrokerageMSP", port, &err), 0);
    ASSERT_NOT_NULL(strstr(err, "Cannot run peer because"));
    free(err);
    env_free(&e);
}

/* orderer.yaml for orderer0 on the generated material. */
static void
write_orderer_yaml(const struct env *e, int port, int admin_port)
{
    char node[PATH_MAX], path[PATH_MAX + 32];
    char *text = malloc(8192);

    ASSERT_NOT_NULL(text);
    check_fmt(node, sizeof(node),
             "%s/ordererOrganizations/" ORD_DOMAIN "/orderers/" ORD_NODE,
             e->crypto);
    check_fmt(text, 8192,
             "General:\n"
             "  ListenAddress: 127.0.0.1\n"
             "  ListenPort: %d\n"
             "  TLS:\n"
             "    Enabled: true\n"
             "    PrivateKey: %s/tls/server.key\n"
             "    Certificate: %s/tls/server.crt\n"
             "    RootCAs: [%s/tls/ca.crt]\n"
             "    ClientAuthRequired: false\n"
             "  Keepalive: {ServerMinInterval: 60s, ServerInterval: 7200s, "
             "ServerTimeout: 20s}\n"
             "  Cluster: {SendBufferSize: 100}\n"
             "  BootstrapMethod: none\n"
             "  LocalMSPDir: %s/msp\n"
             "  LocalMSPID: OrdererMSP\n"
             "  BCCSP: {Default: SW, SW: {Hash: SHA2, Security: 256}}\n"
             "  Authentication: {TimeWindow: 15m}\n"
             "FileLedger: {Location: %s/data/ledger}\n"
             "Operations: {ListenAddress: 127.0.0.1:0, TLS: {Enabled: "
             "false}}\n"
             "Metrics: {Provider: disabled}\n"
             "Admin:\n"
             "  ListenAddress: 127.0.0.1:%d\n"
             "  TLS:\n"
             "    Enabled: true\n"
             "    Certificate: %s/tls/server.crt\n"
             "    PrivateKey: %s/tls/server.key\n"
             "    RootCAs: [%s/tls/ca.crt]\n"
             "    ClientAuthRequired: true\n"
             "    ClientRootCAs: [%s/tls/ca.crt]\n"
             "ChannelParticipation: {Enabled: true, MaxRequestBodySize: 1 "
             "MB}\n"
             "Consensus: {WALDir: %s/data/wal, SnapDir: %s/data/snap}\n",
             port, node, node, node, node, e->dir, admin_port, node, node,
             node, node, e->dir, e->dir);
    check_fmt(path, sizeof(path), "%s/orderer.yaml", e->dir);
    check_write(path, text);
    free(text);
}

/*
 * Start the orderer with its output in dir/orderer.log. It dies with the
 * test process (PR_SET_PDEATHSIG), so an aborted test never leaves it
 * running.
 */
static pid_t
start_orderer(const struct env *e)
{
    char tool[PATH_MAX + 16], log[PATH_MAX + 16], cfg[PATH_MAX + 32];
    pid_t parent = getpid(), pid;
    int fd;

    check_fmt(tool, sizeof(tool), "%s/orderer", e->bin);
    check_fmt(log, sizeof(log), "%s/orderer.log", e->dir);
    check_fmt(cfg, sizeof(cfg), "FABRIC_CFG_PATH=%s", e->dir);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        putenv(cfg);
        execl(tool, tool, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void
stop_orderer(pid_t pid)
{
    int status, i;

    ASSERT_EQ(kill(pid, SIGTERM), 0);
    for (i = 0; i < 100; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return;
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
}

/*
 * Wait until 127.0.0.1:port accepts connections; fail early if the
 * orderer exits (its log, kept with the test directory, says why).
 */
static void
wait_listening(const struct env *e, pid_t pid, int port)
{
    struct sockaddr_in a;
    int fd, i, status;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    for (i = 0; i < 200; i++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(fd, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            close(fd);
            return;
        }
        close(fd);
        if (waitpid(pid, &status, WNOHANG) == pid)
            TEST__FAIL("orderer exited before listening; see %s/orderer.log",
                       e->dir);
        usleep(50 * 1000);
    }
    TEST__FAIL("orderer admin port %d never opened", port);
}

TEST_IMPL(orderer_joins_channel_as_consenter)
{
    char block[PATH_MAX], tool[PATH_MAX + 16], addr[64];
    char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], msp[PATH_MAX];
    char *argv[] = {tool,      "channel",      "join",   "--channelID",
                    CHANNEL,   "--config-block", block,  "-o",
                    addr,      "--ca-file",    ca,       "--client-cert",
                    cert,      "--client-key", key,      NULL};
    int port = free_port(), admin_port = free_port();
    char *out = NULL, *err = NULL, *text;
    struct env e;
    pid_t pid;

    env_setup(&e);
    check_fmt(msp, sizeof(msp), "%s/peerOrganizations/" BRK_DOMAIN "/msp",
             e.crypto);
    check_fmt(block, sizeof(block), "%s/genesis.block", e.dir);
    write_configtx(&e, msp, port);
    ASSERT_EQ(configtxgen(&e, block, NULL), 0);
    write_orderer_yaml(&e, port, admin_port);
    check_fmt(tool, sizeof(tool), "%s/osnadmin", e.bin);
    check_fmt(addr, sizeof(addr), "127.0.0.1:%d", admin_port);
    check_fmt(ca, sizeof(ca), "%s/ordererOrganizations/" ORD_DOMAIN
             "/orderers/" ORD_NODE "/tls/ca.crt", e.crypto);
    check_fmt(cert, sizeof(cert), "%s/ordererOrganizations/" ORD_DOMAIN
             "/users/Admin@" ORD_DOMAIN "/tls/client.crt", e.crypto);
    check_fmt(key, sizeof(key), "%s/ordererOrganizations/" ORD_DOMAIN
             "/users/Admin@" ORD_DOMAIN "/tls/client.key", e.crypto);

    pid = start_orderer(&e);
    wait_listening(&e, pid, admin_port);
    /*
     * Success needs the orderer's local MSP and TLS pair, the admin's
     * client certificate (mutual TLS), both org MSPs in the block, and
     * server.crt matching the consenter entry: only then is the relation
     * "consenter" rather than "follower".
     */
    ASSERT_EQ(check_run(argv, NULL, &out, &err), 0);
    ASSERT_EQ(strncmp(out, "Status: 201\n", 12), 0);
    ASSERT_NOT_NULL(strstr(out, "\"consensusRelation\": \"consenter\""));
    ASSERT_NOT_NULL(strstr(out, "\"status\": \"active\""));
    free(out);
    free(err);
    /* Control: a client certificate from another org's TLS CA fails. */
    check_fmt(cert, sizeof(cert), "%s/peerOrganizations/" BRK_DOMAIN
             "/users/Admin@" BRK_DOMAIN "/tls/client.crt", e.crypto);
    check_fmt(key, sizeof(key), "%s/peerOrganizations/" BRK_DOMAIN
             "/users/Admin@" BRK_DOMAIN "/tls/client.key", e.crypto);
    ASSERT_NE(check_run(argv, NULL, &out, &err), 0);
    free(out);
    free(err);
    stop_orderer(pid);
    check_fmt(block, sizeof(block), "%s/orderer.log", e.dir);
    text = check_read(block, NULL);
    ASSERT_NOT_NULL(strstr(text, "Beginning to serve requests"));
    free(text);
    env_free(&e);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(configtxgen_builds_genesis_block),
    TEST_ENTRY(peer_cli_sets_up_every_local_msp),
    TEST_ENTRY(orderer_joins_channel_as_consenter),
};

TEST_MAIN(tests)
