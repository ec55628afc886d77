#!/usr/bin/env bash
# Spendboard's live site against nginx serving the very same folder, for every row the issue
# names: /index.html, /embed/gauge.svg and /stats.json, without and with Accept-Encoding: gzip,
# at 64 and 256 connections; wrk -t2 -d8s --latency, alternating servers, ROUNDS rounds each.
#
#   scripts/serve-vs-nginx-matrix.sh SPENDBOARD_URL OUTPUT_DIR [ROUNDS]
#
# nginx (apt-get install nginx-light wrk) serves OUTPUT_DIR with sendfile, and with gzip on for
# the same types Spendboard compresses (text/html always, when gzip is on; nginx compresses each
# answer, Spendboard once per render).
# Prints one line per row and round: requests per second of both, the ratio, and latency
# percentiles (p50/p99) of both.
set -euo pipefail
base=$1 out=$(realpath "$2") rounds=${3:-3}
command -v wrk > /dev/null || { echo "install wrk" >&2; exit 2; }
[ -x /usr/sbin/nginx ] || { echo "install nginx-light" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
cat > "$tmp/nginx.conf" <<CONF
worker_processes auto; daemon off; pid $tmp/nginx.pid; error_log /dev/null;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; include /etc/nginx/mime.types;
  gzip on; gzip_min_length 1024; gzip_types image/svg+xml application/json; gzip_vary on;
  server { listen 127.0.0.1:$port; root $out; index index.html; } }
CONF
/usr/sbin/nginx -c "$tmp/nginx.conf" -p "$tmp" &
ng=$!
trap 'kill $ng 2> /dev/null; wait $ng 2> /dev/null; rm -rf "$tmp"' EXIT
sleep 1
# "req/s p50 p99" of one wrk run.
measure() { # url connections gzip
    local header=()
    [ "$3" = gzip ] && header=(-H "Accept-Encoding: gzip")
    wrk -t2 -c"$2" -d8s --latency "${header[@]}" "$1" | awk '
        /Requests\/sec/ {rps=$2}
        /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        END {print rps, p50, p99}'
}
printf '%-16s %-5s %4s %5s %11s %11s %6s %18s %18s\n' path enc conn round spendboard nginx ratio "p50/p99 spendboard" "p50/p99 nginx"
for path in /index.html /embed/gauge.svg /stats.json; do
    for encoding in identity gzip; do
        for connections in 64 256; do
            for round in $(seq "$rounds"); do
                read -r a50 <<< "$(measure "$base$path" "$connections" "$encoding")"
                read -r b50 <<< "$(measure "http://127.0.0.1:$port$path" "$connections" "$encoding")"
                set -- $a50; ar=$1 ap50=$2 ap99=$3
                set -- $b50; br=$1 bp50=$2 bp99=$3
                ratio=$(python3 -c "print(f'{float(\"$ar\")/float(\"$br\"):.2f}')")
                printf '%-16s %-5s %4s %5s %11.0f %11.0f %6s %18s %18s\n' "$path" "$encoding" "$connections" "$round" "$ar" "$br" "$ratio" "$ap50/$ap99" "$bp50/$bp99"
            done
        done
    done
done
