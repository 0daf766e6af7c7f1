#!/usr/bin/env bash
# The whole bot under load (docs/benchmarks.md): `mystocks-bot sim`, `mystocks-bot run` with Slack over HTTP on
# PostgreSQL and Redis (a fresh database `mystocks_load`, Redis database 5), and `slack-load drive --text status`.
# Prints the load tool's table per level, the bot's resident memory, the committed audit rows per second, the busy
# summary rows and the count of audit gaps. Needs a release build: B=target/release (the default).
set -u
B=${B:-target/release}
DIR=$(mktemp -d)
cat > "$DIR/bot.toml" <<TOML
[kubernetes]
kubeconfig = "$DIR/kubeconfig"
[store]
url = "postgres://postgres@127.0.0.1:5432/mystocks_load"
[coordinator]
redis_url = "redis://127.0.0.1:6379/5"
[audit]
hmac_key = "load-audit-key-0123456789abcdef0123456789abcdef"
[server]
listen = "127.0.0.1:18080"
ops_listen = "127.0.0.1:19090"
[rate_limit]
read_per_minute = 100000000
[people]
unknown_role = "viewer"
[slack]
bot_token = "xoxb-load"
signing_secret = "load-test-signing-secret"
team_id = "TLOAD"
api_app_id = "A1"
api_url = "http://127.0.0.1:9/api"
TOML
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS mystocks_load" -c "CREATE DATABASE mystocks_load" postgres
redis-cli -n 5 flushdb >/dev/null
"$B/mystocks-bot" sim --kubeconfig "$DIR/kubeconfig" > "$DIR/sim.log" 2>&1 & SIM=$!
sleep 3
"$B/mystocks-bot" run --config "$DIR/bot.toml" > "$DIR/bot.log" 2>&1 & BOT=$!
for _ in $(seq 1 60); do curl -sf 127.0.0.1:19090/readyz >/dev/null && break; sleep 1; done
rss() { awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$BOT/status"; }
echo "idle: $(rss)"
for c in ${LEVELS:-10 50}; do
  "$B/slack-load" drive --addr 127.0.0.1:18080 --team TLOAD --text status --connections "$c" --seconds "${SECONDS_PER:-20}"
  echo "after $c connections: $(rss)"
done
sleep 10
echo "10 s after: $(rss)"
sleep 10  # the last busy window's summary row
q() { psql -qtA -h 127.0.0.1 -U postgres -d mystocks_load -c "$1"; }
echo "committed rows per second: $(q "SELECT count(*) FROM audit_log WHERE actor_identity <> 'bot' GROUP BY date_trunc('second', at) ORDER BY date_trunc('second', at)" | tr '\n' ' ')"
echo "busy windows:"; q "SELECT outcome FROM audit_log WHERE actor_identity = 'bot'"
echo "audit gaps: $(grep -c 'audit entry not written' "$DIR/bot.log")"
kill "$BOT"; sleep 2; kill "$SIM"
echo "logs in $DIR"
