#!/usr/bin/env bash
# The roster demo: two days of files from examples/ on a fresh store, no server needed.
# Usage: bash examples/demo.sh   (set ROSTER_STORE to keep the store somewhere else)
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet || exit 1
roster=target/debug/roster
export ROSTER_STORE="${ROSTER_STORE:-$(mktemp -d)/roster.db}"
step() { printf '\n\033[1m$ roster %s\033[0m\n' "$*"; "$roster" "$@"; echo "(exit $?)"; }
echo "store: $ROSTER_STORE"
step groups import examples/groups.csv
step validate examples/users-day1.csv
step sync --source examples/users-day1.csv
step users list
step validate examples/users-day2.csv --format github
step sync --source examples/users-day2.csv --dry-run
step sync --source examples/users-day2.csv
step diff
step sync --source examples/users-day2.csv --allow-removals 1 --allow-invalid 1
step sync --source examples/users-day2.csv
step users list
step users history E1001
step report --format text
step status
