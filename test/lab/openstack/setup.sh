#!/usr/bin/env bash
# Install what start.sh needs from Debian 12 (bookworm) packages: OpenStack Zed libraries
# (keystone 22, glance 25, placement 8, nova 26, cinder 21, neutron 21), RabbitMQ,
# PostgreSQL 15, uWSGI, qemu-utils. Idempotent: does nothing when all are installed.
#
# Only the python3-* library packages, not the service packages (keystone, glance-api,
# nova-api, ...): those bring debconf/dbconfig-common questions, init scripts, system users
# and postinst DB/endpoint registration, none of which works or is wanted without systemd.
# start.sh writes its own configs and console wrappers.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "openstack lab: setup must run as root (apt-get install)" >&2; exit 1; }
grep -q 'VERSION_CODENAME=bookworm' /etc/os-release ||
  echo "openstack lab: warning: not Debian 12 (bookworm); package versions will differ" >&2

PKGS="python3-keystone python3-glance python3-placement python3-nova python3-cinder python3-neutron
      python3-keystoneauth1 python3-requests
      rabbitmq-server erlang-base uwsgi-core uwsgi-plugin-python3 qemu-utils curl procps openssl
      postgresql-15 python3-psycopg2"

missing=""
for p in $PKGS; do
  [ "$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] || missing="$missing $p"
done
if [ -z "${missing// /}" ]; then
  echo "openstack lab: packages already installed"
  exit 0
fi

t0=$(date +%s)
echo "openstack lab: installing:$missing (first time only, ~1-2 min)"
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3 -y -q"
# No systemd here: make sure no postinst (rabbitmq-server, postgresql) starts a daemon of its
# own on the default ports. Debian's invoke-rc.d honours /usr/sbin/policy-rc.d (101 = deny).
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
trap 'if [ $made_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
[ "${V2O_LAB_SKIP_APT_UPDATE:-0}" = 1 ] || $APT update
# shellcheck disable=SC2086
$APT install --no-install-recommends $PKGS

/usr/bin/python3 - <<'PYEOF'
import importlib.util
mods = ["keystone.server.wsgi", "glance.cmd.api", "placement.wsgi", "nova.cmd.compute", "nova.virt.fake",
        "cinder.cmd.volume", "cinder.tests.fake_driver", "neutron.cmd.eventlet.server",
        "neutron.plugins.ml2.plugin", "keystonemiddleware.auth_token", "oslo_messaging", "keystoneauth1"]
bad = [m for m in mods if importlib.util.find_spec(m) is None]
if bad:
    raise SystemExit("openstack lab: missing python modules after install: %s" % bad)
PYEOF
echo "openstack lab: installed in $(($(date +%s) - t0)) s"
