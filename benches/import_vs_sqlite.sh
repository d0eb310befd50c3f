#!/usr/bin/env bash
# Survey import against `sqlite3 .import --csv` of the same file, run alternately so that both
# see the same machine. Prints the median wall time of each, their ratio, and peak memory.
#   ROWS=1000000 RUNS=5 benches/import_vs_sqlite.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-5}
DIR=${DIR:-/tmp/lacrima-bench-import}
mkdir -p "$DIR"
cargo build --quiet --release --bin lacrima --example gen_survey
SURVEY="$DIR/survey-$ROWS.csv"
[ -f "$SURVEY" ] || target/release/examples/gen_survey --respondents "$ROWS" --out "$SURVEY" >/dev/null
: > "$DIR/times"
for _ in $(seq "$RUNS"); do
    rm -f "$DIR/s.db"
    /usr/bin/time -a -o "$DIR/times" -f "sqlite3 %e %M %U %S" sqlite3 "$DIR/s.db" ".import --csv $SURVEY t"
    rm -f "$DIR"/p.db*
    /usr/bin/time -a -o "$DIR/times" -f "lacrima %e %M %U %S" \
        target/release/lacrima -p "$DIR/p.db" import "$SURVEY" --open answer_a,answer_b >/dev/null
done
python3 - "$DIR/times" "$SURVEY" <<'PY'
import statistics, sys, os
runs = {}
for line in open(sys.argv[1]):
    name, secs, kb, user, system = line.split()
    runs.setdefault(name, []).append((float(secs), int(kb), float(user) + float(system)))
size = os.path.getsize(sys.argv[2]) / 1e6
print(f"file: {sys.argv[2]} ({size:.0f} MB), {len(runs['lacrima'])} alternating runs each")
for name, r in runs.items():
    t = [s for s, _, _ in r]
    cpu = statistics.median(c for _, _, c in r)
    print(f"{name:8} median {statistics.median(t):6.2f} s  (min {min(t):.2f}, max {max(t):.2f})  CPU {cpu:.2f} s  peak RSS {max(k for _, k, _ in r)/1024:.0f} MB")
ratio = statistics.median(s for s, _, _ in runs["lacrima"]) / statistics.median(s for s, _, _ in runs["sqlite3"])
print(f"ratio lacrima / sqlite3: {ratio:.2f}x (target: at most 0.75x)")
PY
