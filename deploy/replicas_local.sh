#!/usr/bin/env bash
# Two replicas behind HAProxy with sticky sessions, proven on this machine (by default without Docker):
# two `streamlit run app.py` servers, Debian's haproxy with deploy/haproxy.cfg in front, and
# bench/load.py run through the proxy. Passes when the load run has zero errors, every session
# kept one replica on every request (X-Served-By, set by the proxy), both replicas served
# sessions, and HAProxy's stats show both replicas up.
#
#   bash deploy/replicas_local.sh                             # 10 sessions, 2 retraining (cd_steps 100)
#   SESSIONS=30 RETRAINERS=5 CD_STEPS=600 bash deploy/replicas_local.sh
#
#   MODE=compose bash deploy/replicas_local.sh               # the same through compose.yaml (needs Docker,
#                                                             # docker-compose and deploy/build_local.sh's image)
#
# Writes deploy/REPORT.md's "replicas" (or "compose") section and deploy/.work/replicas.json.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$PWD/deploy/.work
mkdir -p "$WORK"
SESSIONS=${SESSIONS:-10}
RETRAINERS=${RETRAINERS:-2}
CD_STEPS=${CD_STEPS:-100}
SETTLE=${SETTLE:-30}
MODE=${MODE:-processes}  # processes: streamlit + haproxy on this machine; compose: compose.yaml under Docker
SECTION=$([ "$MODE" = compose ] && echo compose || echo replicas)
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker || echo docker)}
log() { printf '[replicas_local %s] %s\n' "$(date +%T)" "$*" >&2; }
free_port() { python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }

if ! command -v haproxy >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "haproxy is missing: sudo apt-get install haproxy" >&2; exit 1; }
  log "apt-get install haproxy"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
fi

P1=$(free_port); P2=$(free_port); PX=$(free_port); PS=$(free_port)
PIDS=()
COMPOSE=(docker-compose -p ce-replicas -f compose.yaml)
cleanup() {
  if [ "$MODE" = compose ]; then
    "${COMPOSE[@]}" down -t 10 >/dev/null 2>&1 || true
    return
  fi
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

if [ "$MODE" = compose ]; then
  # compose.yaml as shipped, with the image deploy/build_local.sh built and a Debian base for the proxy image
  # (no Docker Hub here); the servers' process ids are read from Docker for the memory figures.
  export APP_IMAGE=${APP_IMAGE:-consistency-explorer:local} PROXY_BASE_IMAGE=${PROXY_BASE_IMAGE:-consistency-explorer-base:bookworm}
  export PORT=$PX STATS_PORT=$PS
  "$DOCKER" image inspect "$APP_IMAGE" >/dev/null || { echo "no $APP_IMAGE: run deploy/build_local.sh first" >&2; exit 1; }
  log "docker-compose build proxy; up (app image $APP_IMAGE)"
  "${COMPOSE[@]}" build proxy >"$WORK/compose-build.log" 2>&1 || { tail -20 "$WORK/compose-build.log" >&2; exit 1; }
  "${COMPOSE[@]}" up -d --no-build >"$WORK/compose-up.log" 2>&1 || { tail -20 "$WORK/compose-up.log" >&2; exit 1; }
  PIDS=("$("$DOCKER" inspect -f '{{.State.Pid}}' "$("${COMPOSE[@]}" ps -q app1)")"
        "$("$DOCKER" inspect -f '{{.State.Pid}}' "$("${COMPOSE[@]}" ps -q app2)")")
  WHAT="\`compose.yaml\` (docker-compose $(docker-compose version --short)): two containers of \`$APP_IMAGE\` and the proxy image (Debian's haproxy, \`deploy/haproxy.Dockerfile\`, base \`$PROXY_BASE_IMAGE\`)"
else
  for port in "$P1" "$P2"; do
    setsid python3 -m streamlit run app.py --server.port "$port" --server.address 127.0.0.1 --server.headless true \
      --server.fileWatcherType none --browser.gatherUsageStats false >"$WORK/replica-$port.log" 2>&1 &
    PIDS+=("$!")
  done
  APP1=127.0.0.1:$P1 APP2=127.0.0.1:$P2 LISTEN=127.0.0.1:$PX STATS_LISTEN=127.0.0.1:$PS \
    STATS_SOCKET=$WORK/haproxy.sock setsid haproxy -db -f deploy/haproxy.cfg >"$WORK/haproxy.log" 2>&1 &
  PIDS+=("$!")
  WHAT="two \`streamlit run app.py\` processes and Debian's haproxy $(haproxy -v | head -1 | cut -d' ' -f3) with \`deploy/haproxy.cfg\`, no Docker"
fi
stat() {  # replica, status, sessions (connections) so far, from HAProxy's stats page
  curl -fsS -m 2 "http://127.0.0.1:$PS/stats;csv" | python3 -c '
import csv, sys
for r in csv.DictReader(sys.stdin.read().lstrip("# ").splitlines()):
    if r["pxname"] == "streamlit" and r["svname"] in ("app1", "app2"):
        print(r["svname"], r["status"], r["stot"])'
}
for _ in $(seq 240); do  # both replicas healthy as HAProxy sees them (its check runs every 5 s)
  [ "$(stat 2>/dev/null | grep -c ' UP ')" = 2 ] && break
  sleep 0.5
done
[ "$(stat | grep -c ' UP ')" = 2 ] || { tail -20 "$WORK"/*.log >&2; exit 1; }
log "replicas (pids ${PIDS[0]}, ${PIDS[1]}) behind the proxy on :$PX; both UP"

LOAD=(python3 bench/load.py --url "http://127.0.0.1:$PX" --server-pid "${PIDS[0]}" --server-pid "${PIDS[1]}"
      --sessions "$SESSIONS" --retrainers "$RETRAINERS" --cd-steps "$CD_STEPS" --warmup 2 --settle "$SETTLE"
      --reconnect --json "$WORK/replicas.json")
log "${LOAD[*]}"
set +e
"${LOAD[@]}" | tee "$WORK/replicas.txt"
set -e
# Control: the stickiness check must be able to fail. One more session opens through the proxy, then its
# cookie is switched to the other replica and it reconnects: the other replica must not resume it.
CONTROL=$(python3 - "http://127.0.0.1:$PX" <<'PY'
import asyncio, json, sys
sys.path.insert(0, "bench")
import load

async def main(url):
    tab = load.Tab(url, 300)
    await tab.open("self-consistency", "sc_show=1")
    first = tab.served_by[-1]
    tab.cookies["CE_SERVER"] = other = "app2" if first == "app1" else "app1"
    await tab.reconnect()
    out = {"first": first, "sent_to": other, "served_by": tab.served_by[-1],
           "resumed": not any(kind == "not_resumed" for kind, _ in tab.errors)}
    await tab.close()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1]))
PY
)
log "control: $CONTROL"
STATS=$(stat)
VERDICT=$(python3 - "$WORK/replicas.json" "$STATS" "$CONTROL" <<'PY'
import json, sys
r, control = json.load(open(sys.argv[1])), json.loads(sys.argv[3])
stats = {line.split()[0]: line.split()[1:] for line in sys.argv[2].splitlines()}
b = r["backends"]
checks = {
    "zero errors": r["errors"] == 0,
    "every session served": r["sessions"]["served"] == r["sessions"]["planned"],
    "every session tagged by the proxy": b["sessions_tagged"] == r["sessions"]["planned"],
    "no session moved between replicas": not b["sessions_that_moved"],
    "every browsing session resumed after a reconnect": (
        r["sessions"]["resumed_after_reconnect"] == r["sessions"]["browsing"]),
    "both replicas served sessions": len(b["sessions_per_backend"]) == 2,
    "both replicas UP in HAProxy's stats": all(v[0] == "UP" for v in stats.values()) and len(stats) == 2,
    "every retrain finished": r["retrains"]["finished"] == r["retrains"]["asked"],
    "control: a session whose cookie names the other replica is served there and not resumed": (
        control["served_by"] == control["sent_to"] and not control["resumed"]),
}
print(json.dumps({"checks": checks, "stats": stats, "control": control}))
PY
)
python3 - "$WORK/replicas.json" "$VERDICT" "${LOAD[*]}" "$WHAT" "$MODE" <<'PY' | python3 deploy/report.py "$SECTION"
import json, subprocess, sys, time
r, v, cmd, what, mode = json.load(open(sys.argv[1])), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
cmd = cmd.replace(sys.argv[1].rsplit("/deploy/", 1)[0] + "/", "")
b, m, t = r["backends"], r["memory_mb"], r["interaction_s"]
f = lambda x, d=2: "—" if x is None else f"{x:,.{d}f}"  # noqa: E731
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
per_user = [(u["index"], u["role"], sorted(set(u["served_by"])), len(u["served_by"])) for u in r["users"]]
title = "compose.yaml: two containers behind HAProxy" if mode == "compose" else "Two replicas behind HAProxy"
print(f"""## {title} (written by `{"MODE=compose " if mode == "compose" else ""}deploy/replicas_local.sh`)

{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, commit {commit}: {what}; cookie `CE_SERVER`, health checks on
`/_stcore/health`. The load script went through the proxy:

```bash
{cmd}
```

Two proofs that a session stays on its replica. (1) Every HTTP response and websocket upgrade of a session
carries the proxy's `X-Served-By`; a session counts as moved if any two differ (its requests: the page, the
websocket, a reconnected websocket, and a fresh HTTP GET after it closed, all with the session's cookie).
(2) `--reconnect`: after its first page each browsing session drops its websocket and reconnects asking to
resume its Streamlit session, as the frontend does after a network blip; Streamlit resumes it only in the
process that holds it. Control, so that the check can fail: one more session, once connected, has its
cookie switched to the other replica and reconnects: {json.dumps(v["control"])}.

| check | result |
|---|---|
""" + "\n".join(f"| {k} | {'pass' if ok else '**FAIL**'} |" for k, ok in v["checks"].items()) + f"""

| figure | value |
|---|---|
| sessions served | {r['sessions']['served']} / {r['sessions']['planned']} ({r['sessions']['retraining']} retraining) |
| browsing sessions resumed after a websocket reconnect | {r['sessions']['resumed_after_reconnect']} / {r['sessions']['browsing']} |
| sessions per replica (by X-Served-By) | {b['sessions_per_backend']} |
| HAProxy stats: replica, status, connections | {'; '.join(f"{k} {s[0]} {s[1]}" for k, s in v['stats'].items())} |
| requests checked per session (HTTP + websocket upgrade) | {min(n for *_, n in per_user)}–{max(n for *_, n in per_user)} |
| errors | {r['errors']} {r['errors_by_kind'] or ''} |
| retrains finished | {r['retrains']['finished']} / {r['retrains']['asked']} |
| interaction, browsing: p50 / p95 / max | {f(t['p50'])} / {f(t['p95'])} / {f(t['max'])} s |
| RSS of both replicas: warm baseline / peak / {m['settle_s']:.0f} s after the last session left | {f(m['baseline_mb'], 0)} / {f(m['peak_mb'], 0)} / {f(m['after_leave_mb'], 0)} MiB |
| machine load average (1 min) during the load: mean / max, {r['machine']['cores']} cores, shared | {f(r['machine']['loadavg_1min_mean'], 1)} / {f(r['machine']['loadavg_1min_max'], 1)} |

Sessions and their replica: {', '.join(f"{i} ({role[0]}) {'+'.join(s)}" for i, role, s, _ in per_user)}.""")
PY
python3 - "$VERDICT" <<'PY'
import json, sys
v = json.loads(sys.argv[1])
for k, ok in v["checks"].items():
    print(("pass  " if ok else "FAIL  ") + k)
sys.exit(0 if all(v["checks"].values()) else 1)
PY
