/* SPDX-License-Identifier: Apache-2.0 */
/* Fixture-network helpers shared by the C network tests. */
#include "netfixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

char *
netfx_run_dir(void)
{
    const char *path = getenv("RESO_TEST_ENV_FILE");
    char line[4096];
    char *val = NULL;
    FILE *fp;

    if (path == NULL)
        RETURN_SKIP("RESO_TEST_ENV_FILE is not set (run through ctest)");
    fp = fopen(path, "r");
    if (fp == NULL)
        RETURN_SKIP("no network fixture file (network_up did not run)");
    while (val == NULL && fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "NET_SKIP=", 9) == 0) {
            fclose(fp);
            RETURN_SKIP(line + 9);
        }
        if (strncmp(line, "NET_RUN_DIR=", 12) == 0)
            val = strdup(line + 12);
    }
    fclose(fp);
    ASSERT_NOT_NULL(val);
    return val;
}

json_t *
netfx_env(void)
{
    char *run = netfx_run_dir();
    char why[1024];
    json_t *env;

    ASSERT_NOT_NULL(getenv("RESOCTL"));
    if (reso_netenv_load(getenv("RESOCTL"), run, NULL, &env, why,
                         sizeof(why)) != 0)
        TEST__FAIL("network env: %s", why);
    free(run);
    return env;
}

const char *
netfx_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_string(v))
        TEST__FAIL("missing string %s", key);
    return json_string_value(v);
}

void
netfx_org_open(json_t *env, const char *org, reso_org_t *o)
{
    char why[1024];

    if (reso_netenv_open_org(env, org, "client", o, why, sizeof(why)) != 0)
        TEST__FAIL("open %s: %s", org, why);
}

const char *
netfx_recorder(json_t *env, const char *org)
{
    json_t *o = json_object_get(json_object_get(env, "orgs"), org);

    if (o == NULL)
        TEST__FAIL("no org %s in the network's env JSON", org);
    return netfx_str(o, "recorder");
}

int
netfx_resoctl(const char *args)
{
    const char *resoctl = getenv("RESOCTL");
    char cmd[2048], out[4096];
    char *run = netfx_run_dir();
    size_t got;
    FILE *fp;

    snprintf(cmd, sizeof(cmd), "'%s' %s --run-dir '%s' 2>&1",
             resoctl != NULL ? resoctl : "resoctl", args, run);
    free(run);
    fp = popen(cmd, "r");
    if (fp == NULL)
        return -1;
    got = fread(out, 1, sizeof(out) - 1, fp);
    out[got] = '\0';
    if (pclose(fp) != 0) {
        fprintf(stderr, "resoctl %s failed:\n%s\n", args, out);
        return -1;
    }
    return 0;
}
