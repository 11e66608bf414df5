#!/usr/bin/env bash
# `npm run lab -- status`: which lab OpenStack processes run (PIDs recorded by start.sh)
# and whether each API answers. Exit 1 if something started by `up` is down.
set -u
. "$(dirname "$0")/lib.sh"
if [ ! -f "$PIDFILE" ]; then
  echo "openstack: not running"
  exit 0
fi
rc=0
api() {  # name url -> HTTP code and latency, 000 if no answer
  curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}s' "$2" 2>/dev/null || echo "000 -"
}
declare -A URL=(
  [keystone]="$KS/v3" [glance-api]="http://$H:$GLANCE_PORT/healthcheck"
  [placement]="http://$H:$PLACEMENT_PORT/" [nova-api]="http://$H:$NOVA_PORT/"
  [neutron-server]="http://$H:$NEUTRON_PORT/" [cinder-api]="http://$H:$CINDER_PORT/"
  [metadata-proxy]="http://$H:$METADATA_PORT/"
)
echo "openstack: state $STATE"
for s in $SERVICES; do
  pid=$(awk -v n="$s" '$1==n{p=$2} END{print p}' "$PIDFILE")
  if is_running "$s"; then
    line=$(printf '  %-16s running  pid %-7s' "$s" "$pid")
    if [ -n "${URL[$s]:-}" ]; then
      read -r code t < <(api "$s" "${URL[$s]}")
      case "$code" in
        2??|3??|401|404) line="$line answers ${URL[$s]} ($code, $t)" ;;
        *) line="$line NOT answering ${URL[$s]} ($code)"; rc=1 ;;
      esac
    fi
    echo "$line"
  else
    printf '  %-16s DOWN\n' "$s"
    rc=1
  fi
done
# v2o's journal: PostgreSQL on 127.0.0.1 (TLS only for the v2o role; pg_isready needs no login)
if is_running postgres; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if "$PGBIN/pg_isready" -q -h "$H" -p "$PG_PORT"; then
    echo "  journal          postgres on $H:$PG_PORT (hostssl, role v2o, CA $PG_TLS/ca.pem)"
  else
    echo "  journal          postgres NOT answering on $H:$PG_PORT"; rc=1
  fi
fi
exit $rc
