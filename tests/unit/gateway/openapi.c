/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The openapi agreement test: every route reso-gateway serves
 * (`reso-gateway --list-routes`) is in docs/openapi.yaml with the same
 * method and path, and every path and method of docs/openapi.yaml is
 * served. The YAML is read by layout (see the comment at its top): the
 * `paths:` block at column 0, paths at two spaces, methods at four.
 */
#include "task.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTES 256

typedef struct routes_s {
    char *v[MAX_ROUTES]; /* "METHOD /path" */
    size_t n;
} routes_t;

static void
add(routes_t *r, const char *method, const char *path)
{
    char buf[512];
    size_t i;

    ASSERT(r->n < MAX_ROUTES);
    snprintf(buf, sizeof(buf), "%s %s", method, path);
    for (i = 0; buf[i] != ' '; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    r->v[r->n] = strdup(buf);
    ASSERT_NOT_NULL(r->v[r->n]);
    r->n++;
}

static void
routes_free(routes_t *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        free(r->v[i]);
    r->n = 0;
}

static int
has(const routes_t *r, const char *s)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (strcmp(r->v[i], s) == 0)
            return 1;
    return 0;
}

/* Split off the next line of *p in place; NULL at the end. */
static char *
next_line(char **p)
{
    char *line = *p, *nl;

    if (line == NULL || *line == '\0')
        return NULL;
    nl = strchr(line, '\n');
    if (nl != NULL) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = NULL;
    }
    return line;
}

static int
indent_of(const char *line)
{
    int n = 0;

    while (line[n] == ' ')
        n++;
    return n;
}

/* Parse the paths block of an OpenAPI document (text is modified). */
static void
parse_openapi(char *text, routes_t *out)
{
    static const char *const methods[] = {"get", "post", "put", "patch",
                                          "delete", "head", "options"};
    char path[400] = "";
    int in_paths = 0;
    char *line, *p = text;

    while ((line = next_line(&p)) != NULL) {
        int ind = indent_of(line);
        char *key = line + ind, *colon;
        size_t i, len;

        if (*key == '\0' || *key == '#')
            continue;
        if (ind == 0) {
            in_paths = strncmp(key, "paths:", 6) == 0;
            continue;
        }
        if (!in_paths)
            continue;
        colon = strchr(key, ':');
        if (colon == NULL)
            continue;
        len = (size_t)(colon - key);
        if (ind == 2) {
            if (key[0] == '"' || key[0] == '\'') {
                key++;
                len -= 2;
            }
            ASSERT(len < sizeof(path));
            memcpy(path, key, len);
            path[len] = '\0';
        } else if (ind == 4 && path[0] == '/') {
            for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
                if (strlen(methods[i]) == len &&
                    strncmp(key, methods[i], len) == 0) {
                    add(out, methods[i], path);
                }
            }
        }
    }
}

/* Parse `--list-routes` output: "METHOD /pattern" per line. */
static void
parse_list(char *text, routes_t *out)
{
    char *line, *p = text;

    while ((line = next_line(&p)) != NULL) {
        char *sp = strchr(line, ' ');

        ASSERT_NOT_NULL(sp);
        *sp = '\0';
        add(out, line, sp + 1);
    }
}

/* Print what one side lacks; returns the number of differences. */
static size_t
diff(const routes_t *a, const char *aname, const routes_t *b,
     const char *bname)
{
    size_t i, n = 0;

    for (i = 0; i < a->n; i++) {
        if (!has(b, a->v[i])) {
            fprintf(stderr, "%s in %s but not in %s\n", a->v[i], aname,
                    bname);
            n++;
        }
    }
    return n;
}

static char *
slurp(FILE *fp)
{
    char *buf = NULL;
    size_t len = 0, cap = 0, got;

    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            ASSERT_NOT_NULL(buf);
        }
        got = fread(buf + len, 1, cap - len - 1, fp);
        if (got == 0)
            break;
        len += got;
    }
    buf[len] = '\0';
    return buf;
}

/* The parsers themselves, on a document with every layout they meet. */
TEST_IMPL(openapi_parser)
{
    char doc[] = "openapi: 3.0.3\n"
                 "paths:\n"
                 "  # comment\n"
                 "  /v1/events:\n"
                 "    post:\n"
                 "      responses:\n"
                 "        get: {}\n"
                 "    parameters: []\n"
                 "    get:\n"
                 "  \"/v1/events/{id}\":\n"
                 "    delete: {}\n"
                 "components:\n"
                 "  /not/a/path:\n"
                 "    get: {}\n";
    char list[] = "GET /v1/events\nPOST /v1/events\nDELETE /v1/events/{id}\n"
                  "GET /healthz\n";
    routes_t a = {{0}, 0}, b = {{0}, 0};

    parse_openapi(doc, &a);
    ASSERT_EQ(a.n, 3);
    ASSERT_STR_EQ(a.v[0], "POST /v1/events");
    ASSERT_STR_EQ(a.v[1], "GET /v1/events");
    ASSERT_STR_EQ(a.v[2], "DELETE /v1/events/{id}");
    parse_list(list, &b);
    ASSERT_EQ(b.n, 4);
    /* The comparison finds the route the document lacks, and only it. */
    ASSERT_EQ(diff(&b, "routes", &a, "doc"), 1);
    ASSERT_EQ(diff(&a, "doc", &b, "routes"), 0);
    routes_free(&a);
    routes_free(&b);
}

TEST_IMPL(openapi_agreement)
{
    routes_t served = {{0}, 0}, documented = {{0}, 0};
    char *text;
    FILE *fp;

    unsetenv("RESO_GW_CONFIG");
    fp = popen(GW_BINARY " --list-routes", "r");
    ASSERT_NOT_NULL(fp);
    text = slurp(fp);
    ASSERT_EQ(pclose(fp), 0);
    parse_list(text, &served);
    free(text);
    fp = fopen(GW_OPENAPI, "r");
    ASSERT_NOT_NULL(fp);
    text = slurp(fp);
    fclose(fp);
    parse_openapi(text, &documented);
    free(text);
    ASSERT(served.n >= 2); /* /healthz and /metrics at least */
    ASSERT(has(&served, "GET /healthz"));
    ASSERT_EQ(diff(&served, "reso-gateway --list-routes", &documented,
                   "docs/openapi.yaml") +
                  diff(&documented, "docs/openapi.yaml", &served,
                       "reso-gateway --list-routes"),
              0);
    ASSERT_EQ(served.n, documented.n);
    routes_free(&served);
    routes_free(&documented);
}

static const test_entry_t tests[] = {
    TEST_ENTRY(openapi_parser),
    TEST_ENTRY(openapi_agreement),
};

TEST_MAIN(tests)
