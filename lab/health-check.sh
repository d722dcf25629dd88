#!/usr/bin/env bash
# The lab director's health checker, the way keepalived's HTTP_GET checks a real server: every
# interval it asks each real server over the network for the virtual service's VIP,
#   curl -s -w %{http_code} http://<real server>:8472/vips/<VIP>
# and only a 200 is healthy. The healthy real servers, by weight, make up the virtual service's
# scheduling map (new connections only: connections the director already forwards keep their real
# server, like IPVS with a weight of 0); a real server that answers 200 again is put back.
#
# Runs inside the director's network namespace, one process per virtual service (VIP), which owns
# that service's scheduling map, so no two writers ever race on it.
#
# Usage: health-check.sh --table T --map M --vip VIP --state DIR [--interval S] [--port P]
#          NAME=ADDRESS=MARK=WEIGHT...      (one per real server, e.g. rs1=192.0.2.11=1=1)
# What it saw goes to files, not a log: DIR/NAME.code (last HTTP status, 000 for no answer),
# DIR/NAME.body (last body, shown by the lab; the verdict is the status alone), DIR/slots (the map's real servers, slot by slot), and one line per
# change of verdict appended to DIR/transitions ("<unix ms> <name> up|down <code> <body>").
set -uo pipefail

INTERVAL=0.2
PORT=8472
SLOTS=12 # the scheduling map's size: numgen inc mod SLOTS in the director's ruleset
TABLE='' MAP='' VIP='' STATE=''
while (($#)); do
  case $1 in
    --table) TABLE=$2; shift 2 ;;
    --map) MAP=$2; shift 2 ;;
    --vip) VIP=$2; shift 2 ;;
    --state) STATE=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --*) echo "health-check: unknown argument $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ -n "$TABLE" ] && [ -n "$MAP" ] && [ -n "$VIP" ] && [ -n "$STATE" ] && (($#)) ||
  { echo "health-check: needs --table, --map, --vip, --state and real servers" >&2; exit 2; }

declare -a NAMES
declare -A ADDR MARK WEIGHT HEALTHY
for spec in "$@"; do
  IFS='=' read -r name addr mark weight <<<"$spec"
  NAMES+=("$name")
  ADDR[$name]=$addr MARK[$name]=$mark WEIGHT[$name]=$weight HEALTHY[$name]=unknown
done
mkdir -p "$STATE"

# The scheduling map from the healthy real servers: SLOTS slots filled by smooth weighted round
# robin (nginx's), so the director's numgen inc walks them in IPVS wrr's interleaved order.
rebuild_map() {
  local -A current=()
  local elements='' slots='' slot name best total=0
  for name in "${NAMES[@]}"; do
    [ "${HEALTHY[$name]}" = up ] && ((WEIGHT[$name] > 0)) && current[$name]=0 && total=$((total + WEIGHT[$name]))
  done
  if ((total > 0)); then
    for ((slot = 0; slot < SLOTS; slot++)); do
      best=''
      for name in "${NAMES[@]}"; do
        [ -n "${current[$name]+set}" ] || continue
        current[$name]=$((current[$name] + WEIGHT[$name]))
        [ -z "$best" ] || ((current[$name] > current[$best])) && best=$name
      done
      current[$best]=$((current[$best] - total))
      elements+="$slot : ${MARK[$best]}, "
      slots+="$best "
    done
  fi
  # One transaction: a new connection sees the old map or the new one, never an empty one between.
  {
    echo "flush map inet $TABLE $MAP"
    [ -z "$elements" ] || echo "add element inet $TABLE $MAP { ${elements%, } }"
  } | nft -f - || echo "health-check: nft failed to update map $MAP" >&2
  echo "${slots:-none}" >"$STATE/slots.tmp" && mv "$STATE/slots.tmp" "$STATE/slots"
}

url_host() { [[ $1 == *:* ]] && echo "[$1]" || echo "$1"; }

# Files are written only when what a real server says changes (the lab reads them while this runs:
# each write is a rename, so a reader never sees half a file).
publish() { # publish FILE CONTENT
  printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"
}
declare -A LAST_CODE LAST_BODY
changed=1
while true; do
  for name in "${NAMES[@]}"; do
    out=$(curl -s -g -w '\n%{http_code}' --max-time 1 "http://$(url_host "${ADDR[$name]}"):$PORT/vips/$VIP" 2>/dev/null)
    code=${out##*$'\n'}
    body=${out%$'\n'*}
    [[ $code =~ ^[0-9]{3}$ ]] || code=000
    [ "$out" != "$code" ] || body=''
    if [ "$code" != "${LAST_CODE[$name]:-}" ] || [ "$body" != "${LAST_BODY[$name]:-}" ]; then
      LAST_CODE[$name]=$code LAST_BODY[$name]=$body
      publish "$STATE/$name.body" "$body"
      publish "$STATE/$name.code" "$code"
    fi
    verdict=down
    [ "$code" = 200 ] && verdict=up
    if [ "$verdict" != "${HEALTHY[$name]}" ]; then
      HEALTHY[$name]=$verdict
      changed=1
      echo "$(date +%s%3N) $name $verdict $code ${body//$'\n'/ }" >>"$STATE/transitions"
    fi
  done
  if ((changed)); then
    rebuild_map
    changed=0
  fi
  sleep "$INTERVAL"
done
