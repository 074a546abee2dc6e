#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every fuzz target in a fuzz build dir for a bounded time each.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]   (default 20 s per target)
set -euo pipefail
build=$1
secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
targets=$(find "$build/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
if [ -z "$targets" ]; then
  echo "fuzz: no targets built in $build/tests/fuzz" >&2
  exit 1
fi
passed=0
failed=0
for t in $targets; do
  name=$(basename "$t")
  corpus="$build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  seeds="$here/corpus/$name"
  echo "fuzz: $name for ${secs}s"
  if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$corpus" ${seeds:+$( [ -d "$seeds" ] && echo "$seeds")} \
        > "$build/$name.log" 2>&1; then
    passed=$((passed + 1))
    grep -E '^stat::number_of_executed_units' "$build/$name.log" | sed "s/^/fuzz: $name /" || true
  else
    failed=$((failed + 1))
    echo "fuzz: $name FAILED; last lines of $build/$name.log:" >&2
    tail -n 40 "$build/$name.log" >&2
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
