/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C half of the cid_vs_ipfs interop test: for each size argument,
 * print "SIZE CID" for the deterministic content of that size
 * (cid_content.h), computed by reso-gateway's cid.c. cid_compare.cmake
 * checks the lines are identical to what ipfs-cid.mjs prints with IPFS's
 * own importer.
 */
#include "cid.h"
#include "cid_content.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        char *end, cid[GW_CID_BUFSZ];
        unsigned long long n;
        uint8_t *buf;

        errno = 0;
        n = strtoull(argv[i], &end, 10);
        if (errno != 0 || *end != '\0' || end == argv[i] ||
            n > (1ull << 32)) {
            fprintf(stderr, "cid_print: bad size %s\n", argv[i]);
            return 2;
        }
        buf = malloc(n > 0 ? (size_t)n : 1);
        if (buf == NULL) {
            fprintf(stderr, "cid_print: out of memory\n");
            return 1;
        }
        cid_content(buf, (size_t)n);
        if (gw_cid_of_buffer(buf, (size_t)n, cid) != 0) {
            fprintf(stderr, "cid_print: CID of %llu bytes failed\n", n);
            free(buf);
            return 1;
        }
        printf("%llu %s\n", n, cid);
        free(buf);
    }
    return 0;
}
