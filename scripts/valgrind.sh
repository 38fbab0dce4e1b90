#!/usr/bin/env bash
# Runs the hand-polled test binaries under valgrind memcheck: any invalid read or write, use of
# uninitialised memory, or definite leak fails the run. Usage: scripts/valgrind.sh [TEST...]
set -euo pipefail
cd "$(dirname "$0")/.."
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    tests=(semaphore mutex event condition hostile_wakers rwlock barrier async_result deadline)
fi
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
# Build once and list the executables cargo made for these targets.
mapfile -t bins < <(cargo test --no-run --message-format=json "${args[@]}" 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["executable"])')
status=0
for bin in "${bins[@]}"; do
    name=$(basename "$bin")
    start=$(date +%s)
    if valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        "$bin" --test-threads=1 -q >"/tmp/valgrind-$name.log" 2>&1; then
        echo "valgrind: $name clean ($(( $(date +%s) - start )) s)"
    else
        echo "valgrind: $name FAILED (log: /tmp/valgrind-$name.log)"
        tail -n 40 "/tmp/valgrind-$name.log"
        status=1
    fi
done
exit $status
