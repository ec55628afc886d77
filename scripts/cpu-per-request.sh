#!/usr/bin/env bash
# CPU time a server spends per request: runs wrk against URL for 8 s and divides the user and
# system time the given processes used meanwhile (from /proc/PID/stat) by the requests answered.
# Steadier than requests per second on a machine whose two cores the client shares.
#
#   scripts/cpu-per-request.sh URL PID [PID...]      (CONNECTIONS=256, HEADER="Accept-Encoding: gzip")
#
# For nginx, pass its worker processes: $(pgrep -f "nginx: worker").
set -euo pipefail
url=$1
shift
ticks=$(getconf CLK_TCK)
times() {
    local user=0 system=0
    for pid in "$@"; do
        read -r u s < <(awk '{print $14, $15}' "/proc/$pid/stat")
        user=$((user + u))
        system=$((system + s))
    done
    echo "$user $system"
}
header=()
[ -n "${HEADER:-}" ] && header=(-H "$HEADER")
read -r user0 system0 <<< "$(times "$@")"
out=$(wrk -t2 -c"${CONNECTIONS:-256}" -d8s "${header[@]}" "$url")
read -r user1 system1 <<< "$(times "$@")"
requests=$(echo "$out" | awk '/requests in/ {print $1}')
rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
python3 -c "
n = $requests; hz = $ticks
print(f'{float(\"$rate\"):.0f} req/s, user {($user1 - $user0) / hz / n * 1e6:.1f} us + system {($system1 - $system0) / hz / n * 1e6:.1f} us per request')"
