#!/usr/bin/env bash
# Start Kamailio in the foreground with the shipped kamailio.cfg rendered for this site.
#
#   deploy/kamailio/run.sh [--listen udp:IP:PORT] [--router http://IP:PORT] [--fallback sip:URI]
#                          [--children N] [--static | --no-cache]
#
# Defaults: listen udp:127.0.0.1:5060, platform http://127.0.0.1:8000, fallback queue sip:12345@127.0.0.1:5070.
# --static routes every call to the fallback queue without asking the platform (planned outage bypass).
# --no-cache asks the platform for every call (keeps no answers; for comparison).
# The rendered file, pid and control socket go to $HOTLINE_KAMAILIO_RUN_DIR (default var/kamailio).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
run_dir=${HOTLINE_KAMAILIO_RUN_DIR:-$repo/var/kamailio}
mkdir -p "$run_dir"
extra=()
args=()
for a in "$@"; do
  case "$a" in
    --static) extra+=(-A HOTLINE_STATIC_ROUTE) ;;
    --no-cache) extra+=(-A HOTLINE_NO_CACHE) ;;
    *) args+=("$a") ;;
  esac
done
"$repo/.venv/bin/hotline" telephony kamailio-config "${args[@]}" -o "$run_dir/kamailio.cfg"
exec kamailio -DD -E -m 256 -f "$run_dir/kamailio.cfg" -P "$run_dir/kamailio.pid" -Y "$run_dir" "${extra[@]}"
