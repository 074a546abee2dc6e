/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reso-gateway's index and reports modules in-process for the reports
 * tests and the report benchmark (rf_gateway_start in reports_fixture.h).
 * Kept apart from the documents so that the pure-logic test links no
 * module code.
 */
#include "reports_fixture.h"

#include "gwtest.h"
#include "task.h"

extern const gw_module_t gw_module_reports;
extern const gw_module_t gw_module_index;

int
rf_gateway_start(gw_config_t *cfg, size_t ring, gw_hub_t **hub)
{
    hlf_error_t e;
    int port;

    if (gw_hub_new(ring, hub) != HLF_OK)
        TEST__FAIL("hub: out of memory");
    gw_stream_install_hub(*hub);
    if (gw_module_index.init(cfg, &e) != HLF_OK ||
        gw_module_reports.init(cfg, &e) != HLF_OK)
        TEST__FAIL("init: %s", e.text);
    port = gwt_start(cfg);
    if (gw_module_index.start(cfg, &e) != HLF_OK ||
        gw_module_reports.start(cfg, &e) != HLF_OK)
        TEST__FAIL("start: %s", e.text);
    return port;
}

void
rf_gateway_stop(gw_config_t *cfg, gw_hub_t *hub)
{
    gw_module_reports.stop();
    gw_module_index.stop();
    (void)gw_http_drain(2000);
    gwt_stop(cfg);
    gw_stream_install_hub(NULL);
    gw_hub_free(hub);
}
