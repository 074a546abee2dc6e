#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `resoctl network status` on the fixture network lists all 9 processes up
# (the Fabric network, its CouchDB and its gateway), each with the PID of its PID file
# and the port of the plan, in start order, and exits 0.
. "$(dirname "$0")/lib.sh"
need_fixture

assert_all_up "$NET_RUN_DIR" "$NET_BASE_PORT"
header=$(head -n 1 <<<"$STATUS_OUT")
assert_eq "$(tr -s ' ' <<<"$header")" "PROCESS PID PORT STATE" "status header"
names=$(awk 'NR > 1 { print $1 }' <<<"$STATUS_OUT" | tr '\n' ' ')
assert_eq "$names" "${NET_PROCS[*]} " "process order"
