#!/usr/bin/env bash
# Fuzzes fleetdex's parsers with libFuzzer (swiftc -sanitize=fuzzer,address).
#
#   scripts/fuzz.sh [target...]        every target in Fuzz/*.swift, or the ones named
#   RUNS=1000000 TIMEOUT=1 MAX_TIME=3600 scripts/fuzz.sh query json
#   BUILD_ONLY=1 scripts/fuzz.sh       build the binaries into .build/fuzz/ and stop
#
# A target is one file, Fuzz/<name>.swift, defining LLVMFuzzerTestOneInput; its header names
# the module sources compiled with it (`// fuzz-sources: ...`, globs allowed) and the longest
# input to try (`// fuzz-max-len: N`). A new parser (an MQTT packet decoder) is a new file
# there; nothing here changes. `http` (serve's request decoding) is the generator
# Sources/fleetdex-wirefuzz, since FleetServer links SwiftNIO and swift-crypto. Optional: Fuzz/<name>.dict (a libFuzzer
# dictionary) and Fuzz/seeds/<name>/ (seed inputs); query, json and lifecycle also take
# seeds from Queries/*.fq and the tests.
#
# Each target runs RUNS inputs (default 1,000,000) in libFuzzer's fork mode, which goes on
# after a crash: every crashing, hanging (slower than TIMEOUT seconds, default 1) or
# out-of-memory input is saved as Fuzz/crashes/<name>/{crash,timeout,oom}-<sha1>; the input
# list grows in .build/fuzz/corpus/<name>/ and is reused by the next run. Prints a line per
# target (inputs, crashes, hangs, time) and `fuzz: N passed, M failed`; exits 1 on a failure.
# MAX_TIME (seconds, default 3600) bounds each target's run: one stopped by it before RUNS
# inputs fails. With ASan on 2 shared cores, query runs about 800 inputs a second, json and
# lifecycle 13,000-80,000, timestamp 30,000-80,000 (1,000,000 each: query 21 min, the rest 1-2).
set -uo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-1000000}
TIMEOUT=${TIMEOUT:-1}
MAX_TIME=${MAX_TIME:-3600}
OUT=.build/fuzz
mkdir -p "$OUT"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in Fuzz/*.swift; do targets+=("$(basename "$f" .swift)"); done
    targets+=(http)
fi

header() { sed -n "s|^// $2: *||p" "Fuzz/$1.swift" | head -1; }

# One seed file per input, named by its hash.
seed() {
    local dir=$1 text=$2
    [ -n "$text" ] || return 0
    printf '%s' "$text" > "$dir/seed-$(printf '%s' "$text" | sha1sum | cut -c1-16)"
}

seeds() {
    local t=$1 dir=$OUT/corpus/$1
    mkdir -p "$dir"
    [ -d "Fuzz/seeds/$t" ] && cp Fuzz/seeds/"$t"/* "$dir"/ 2>/dev/null
    case $t in
    query)
        # Saved queries, and the string literals of the query and search tests.
        while IFS= read -r line; do seed "$dir" "$line"; done < <(cat Queries/*.fq | grep -v '^#')
        while IFS= read -r lit; do
            lit=${lit#\"}; lit=${lit%\"}
            lit=${lit//\\\"/\"}; lit=${lit//\\\\/\\}
            seed "$dir" "$lit"
        done < <(grep -ohE '"([^"\\]|\\.)+"' Tests/FleetQueryTests/*.swift Tests/FleetIndexTests/*.swift | sort -u)
        ;;
    json | lifecycle)
        # Event lines of the tests (single-line literals and JSON Lines in the CLI tests).
        while IFS= read -r line; do seed "$dir" "$line"; done < <(grep -rohE '\{"(clientId|topic|timestamp)[^#]*\}' Tests | sort -u)
        [ "$t" = json ] && cp Fuzz/seeds/lifecycle/* "$dir"/ 2>/dev/null
        ;;
    esac
    return 0
}

build() {
    local t=$1 src
    src=$(header "$t" fuzz-sources)
    [ -n "$src" ] || { echo "Fuzz/$t.swift: no '// fuzz-sources:' line" >&2; return 1; }
    # shellcheck disable=SC2086 # the sources are globs
    if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name "Fuzz_$t" \
        $src "Fuzz/$t.swift" -o "$OUT/$t" > "$OUT/$t.build.log" 2>&1; then
        grep -v 'Cannot export local symbol' "$OUT/$t.build.log" >&2
        return 1
    fi
}

passed=0
failed=0
summary=()
for t in "${targets[@]}"; do
    if [ "$t" = http ]; then
        # What serve reads off the network goes through FleetServer, which links SwiftNIO and
        # swift-crypto: a seeded mutational generator (Sources/fleetdex-wirefuzz) fuzzes it
        # instead of libFuzzer; crashes are saved under Fuzz/crashes/http/.
        echo "fuzz: building http (fleetdex-wirefuzz, release)" >&2
        swift build -c release --product fleetdex-wirefuzz > "$OUT/http.build.log" 2>&1 || { summary+=("http       build failed"); failed=$((failed + 1)); continue; }
        [ -n "${BUILD_ONLY:-}" ] && continue
        start=$(date +%s)
        if .build/release/fleetdex-wirefuzz "$RUNS" 1 > "$OUT/http.log" 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
        line=$(grep '^http ' "$OUT/http.log" || tail -1 "$OUT/http.log")
        echo "$line ($(( $(date +%s) - start ))s with the build)" >&2
        summary+=("$line")
        continue
    fi
    [ -f "Fuzz/$t.swift" ] || { echo "no target Fuzz/$t.swift" >&2; failed=$((failed + 1)); continue; }
    echo "fuzz: building $t" >&2
    if ! build "$t"; then
        summary+=("$(printf '%-10s build failed' "$t")"); failed=$((failed + 1)); continue
    fi
    [ -n "${BUILD_ONLY:-}" ] && continue
    seeds "$t"
    crashes=Fuzz/crashes/$t
    mkdir -p "$crashes"
    before=$(ls "$crashes" | wc -l)
    maxlen=$(header "$t" fuzz-max-len)
    dict=()
    [ -f "Fuzz/$t.dict" ] && dict=(-dict="Fuzz/$t.dict")
    [ "$t" = lifecycle ] && [ -f Fuzz/json.dict ] && dict=(-dict=Fuzz/json.dict)
    echo "fuzz: running $t ($RUNS inputs, timeout ${TIMEOUT}s)" >&2
    start=$(date +%s)
    # No Swift backtracer (it outlives a crashed child) and no leak checks (the runtime's
    # metadata caches are never freed); crashes are what libFuzzer and ASan report.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:handle_abort=1 \
        "$OUT/$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -runs="$RUNS" -max_total_time="$MAX_TIME" -timeout="$TIMEOUT" ${maxlen:+-max_len=$maxlen} "${dict[@]}" \
        -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$crashes/" \
        "$OUT/corpus/$t" > "$OUT/$t.log" 2>&1
    secs=$(( $(date +%s) - start ))
    stats=$(grep -E '^#[0-9]+: .*oom/timeout/crash:' "$OUT/$t.log" | tail -1)
    inputs=$(sed -n 's/^INFO: fuzzed for \([0-9]*\) iterations.*/\1/p' "$OUT/$t.log" | tail -1)
    [ -n "$inputs" ] || inputs=$(printf '%s' "$stats" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    counts=$(printf '%s' "$stats" | sed -n 's|.*oom/timeout/crash: \([0-9]*\)/\([0-9]*\)/\([0-9]*\).*|\1 \2 \3|p')
    read -r ooms hangs crashed <<< "${counts:-0 0 0}"
    new=$(( $(ls "$crashes" | wc -l) - before ))
    line=$(printf '%-10s inputs %9s  crashes %3s  hangs %3s  ooms %3s  time %4ss  new inputs saved %s' \
        "$t" "${inputs:-0}" "$crashed" "$hangs" "$ooms" "$secs" "$new")
    echo "$line" >&2
    summary+=("$line")
    if [ "${inputs:-0}" -ge "$RUNS" ] && [ "$crashed" = 0 ] && [ "$hangs" = 0 ] && [ "$ooms" = 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        ls "$crashes" | sed "s|^|    $crashes/|" | tail -20 >&2
    fi
done
[ -n "${BUILD_ONLY:-}" ] && { echo "fuzz: built into $OUT/"; exit 0; }
printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
