#!/usr/bin/env bash
# Checks systemd/billpayd.service as systemd itself judges it:
#  - `systemd-analyze security --offline=yes` rates its exposure 2.0 or lower;
#  - `systemd-analyze verify` passes with ExecStart pointed at the built binary;
#  - the sysusers.d file creates the billpayd user (in a scratch root).
# usage: check-unit.sh SYSTEMD_DIR BILLPAYD_BINARY
set -euo pipefail
unit_dir=$1
binary=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# check_exposure UNIT_FILE: fails unless systemd rates the unit's exposure 2.0 or lower.
check_exposure() {
    local line exposure
    line=$(systemd-analyze security --offline=yes "$1" 2>&1 | tail -n 1)
    exposure=$(echo "$line" | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
    echo "systemd-analyze security ($(basename "$1")): $line"
    if [[ -z "$exposure" ]] || ! awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
        echo "FAIL: $(basename "$1") exposure ${exposure:-unknown} is above 2.0" >&2
        exit 1
    fi
}

check_exposure "$unit_dir/billpayd.service"

sed "s#/usr/bin/billpayd#$binary#g" "$unit_dir/billpayd.service" >"$scratch/billpayd.service"
verify_output=$(systemd-analyze verify "$scratch/billpayd.service" 2>&1 || echo "exit status $?")
if [[ -n "$verify_output" ]]; then
    echo "FAIL: systemd-analyze verify:" >&2
    echo "$verify_output" >&2
    exit 1
fi
echo "systemd-analyze verify: clean"

# The daily timers (reconciliation; retention purge and audit checkpoint): a oneshot service and
# its timer each, verified the same way.
ctl_binary="$(dirname "$binary")/billpayctl"
for job in reconcile purge schedule; do
    sed "s#/usr/bin/billpayctl#$ctl_binary#g" "$unit_dir/billpayd-$job.service" \
        >"$scratch/billpayd-$job.service"
    cp "$unit_dir/billpayd-$job.timer" "$scratch/billpayd-$job.timer"
    verify_output=$(systemd-analyze verify "$scratch/billpayd-$job.service" \
        "$scratch/billpayd-$job.timer" 2>&1 || echo "exit status $?")
    if [[ -n "$verify_output" ]]; then
        echo "FAIL: systemd-analyze verify ($job):" >&2
        echo "$verify_output" >&2
        exit 1
    fi
    check_exposure "$unit_dir/billpayd-$job.service"
    echo "systemd-analyze verify ($job service and timer): clean"
done

mkdir -p "$scratch/root/etc"
systemd-sysusers --root="$scratch/root" "$unit_dir/billpayd.sysusers.conf" >/dev/null 2>&1
if ! grep -q '^billpayd:' "$scratch/root/etc/passwd"; then
    echo "FAIL: sysusers.d file did not create the billpayd user" >&2
    exit 1
fi
echo "sysusers.d: creates billpayd"
