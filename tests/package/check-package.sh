#!/usr/bin/env bash
# Installs the built package on this machine, checks that every file lands where
# docs/operations.md says with the right owner and mode, that nothing is enabled or started,
# that `billpayd --check-config` names what an operator must still fill in, and that purging
# removes it cleanly. Run by scripts/package (as root: it installs into this machine's root).
# usage: check-package.sh DEB
set -euo pipefail
deb=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

# What the .deb holds: path and mode.
listing=$(dpkg-deb -c "$deb")
expect_file() {  # PATH MODE
    grep -qE "^$2 root/root .* \./${1#/}\$" <<<"$listing" || fail "$1 is not in the package as $2 root/root"
}
expect_file /usr/bin/billpayd -rwxr-xr-x
expect_file /usr/bin/billpayctl -rwxr-xr-x
for unit in billpayd.service billpayd-reconcile.service billpayd-reconcile.timer \
            billpayd-purge.service billpayd-purge.timer \
            billpayd-schedule.service billpayd-schedule.timer; do
    expect_file "/lib/systemd/system/$unit" -rw-r--r--
done
expect_file /etc/billpayd/billpayd.yaml -rw-r--r--
expect_file /usr/lib/sysusers.d/billpayd.conf -rw-r--r--
expect_file /usr/lib/tmpfiles.d/billpayd.conf -rw-r--r--
expect_file /usr/share/billpayd/billpayd-alerts.yaml -rw-r--r--
grep -q './usr/share/doc/billpayd/privacy.md' <<<"$listing" || fail "docs are not installed"
dpkg-deb -I "$deb" conffiles | grep -qx /etc/billpayd/billpayd.yaml ||
    fail "/etc/billpayd/billpayd.yaml is not a conffile"
echo "package contents: every file where documented"

# Install on this machine.
dpkg -i "$deb" >/dev/null
trap 'dpkg --purge billpayd >/dev/null 2>&1 || true' EXIT
id billpayd >/dev/null || fail "the billpayd user was not created"
[[ "$(stat -c '%U:%G %a' /var/lib/billpayd)" == "billpayd:billpayd 750" ]] ||
    fail "/var/lib/billpayd is $(stat -c '%U:%G %a' /var/lib/billpayd)"
[[ "$(stat -c '%U:%G %a' /var/lib/billpayd/spool/correspondence)" == "billpayd:billpayd 750" ]] ||
    fail "the spool folder is not billpayd's"
[[ "$(stat -c '%U:%G %a' /etc/billpayd/credentials)" == "root:root 700" ]] ||
    fail "/etc/billpayd/credentials is $(stat -c '%U:%G %a' /etc/billpayd/credentials)"
for unit in billpayd.service billpayd-reconcile.timer billpayd-purge.timer billpayd-schedule.timer; do
    [[ ! -e "/etc/systemd/system/multi-user.target.wants/$unit" &&
       ! -e "/etc/systemd/system/timers.target.wants/$unit" ]] || fail "$unit was enabled"
done
echo "installed: user, folders and modes as documented; nothing enabled or started"

# The example config names what the operator must still provide, and nothing else is wrong.
set +e
problems=$(billpayd --config /etc/billpayd/billpayd.yaml --check-config 2>&1)
status=$?
set -e
[[ $status -eq 1 ]] || fail "--check-config of the unfilled config exited $status"
for needed in listen.tls.certificate listen.tls.private_key_file database.dsn_file \
              tokenizer.fingerprint_key_file; do
    grep -q "$needed" <<<"$problems" || fail "--check-config does not name $needed: $problems"
done
echo "--check-config names what is still to fill in:"
sed 's/^/    /' <<<"$problems"

# Purge: nothing of the package is left.
dpkg --purge billpayd >/dev/null
trap - EXIT
for gone in /usr/bin/billpayd /usr/bin/billpayctl /lib/systemd/system/billpayd.service \
            /etc/billpayd /usr/lib/sysusers.d/billpayd.conf /var/lib/billpayd; do
    [[ ! -e "$gone" ]] || fail "$gone is still there after purge"
done
echo "purged: no file of the package is left"
