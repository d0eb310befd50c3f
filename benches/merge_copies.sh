#!/usr/bin/env bash
# `lacrima merge` on copies of a large project: the lead's project (a survey of N respondents and
# a codebook of 10 codes) is copied three times with `lacrima backup`; coder c1 codes in copy A,
# c2 in B, c3 in C (their codings imported from gen_survey's file). Times, with peak memory:
# a dry run of B into A, B into A, C into A (folding into a project that holds more), the same
# merge again (nothing to do), and `lacrima merge --undo` of the last merge.
#   N=100000 benches/merge_copies.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
DIR=${DIR:-/tmp/lacrima-bench-merge}
mkdir -p "$DIR"
cargo build --quiet --release --bin lacrima --example gen_survey
L=$PWD/target/release/lacrima
cd "$DIR"
rm -f ./*.db ./*.db-* ./*.csv
"$OLDPWD"/target/release/examples/gen_survey --respondents "$N" --out survey.csv \
    --codebook codebook.csv --codings codings.csv --coders 3 --codes 10 >/dev/null 2>&1
"$L" -p lead.db import survey.csv --id id --open answer_a,answer_b >/dev/null
"$L" -p lead.db codebook import codebook.csv >/dev/null
for x in a b c; do "$L" -p lead.db backup $x.db >/dev/null; done
for c in 1 2 3; do
    (head -1 codings.csv; grep ",c$c," codings.csv) > c$c.csv
done
"$L" -p a.db codings import c1.csv >/dev/null
"$L" -p b.db codings import c2.csv >/dev/null
"$L" -p c.db codings import c3.csv >/dev/null
rm -f survey.csv codings.csv c?.csv lead.db
t() { /usr/bin/time -f "%C: %e s wall, %U + %S s CPU, %M KB peak" "$@" >/dev/null; }
t "$L" -p a.db merge b.db --dry-run
t "$L" -p a.db merge b.db
t "$L" -p a.db merge c.db
t "$L" -p a.db merge c.db
t "$L" -p a.db merge --undo
echo "codings in a.db: $(sqlite3 a.db 'select count(*) from codings')"
