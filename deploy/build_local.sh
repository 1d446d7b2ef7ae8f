#!/usr/bin/env bash
# Build and measure the Docker image on a machine like the development one: Debian bookworm, root,
# no Docker Hub and no PyTorch wheel index, but the Debian mirror of the host's apt sources, the package
# index of the host's pip configuration (with its CA bundle), and the torch CPU wheel that pip finds.
# No package host is written here: every source comes from the host's own configuration or a variable.
#
#   sudo bash deploy/build_local.sh            # install docker.io + debootstrap, start dockerd, build, measure
#   STARTS=5 bash deploy/build_local.sh        # more start-up samples (default 3)
#   REBUILD_BASE=1 bash deploy/build_local.sh  # redo the debootstrap base image
#   NO_CACHE=1 bash deploy/build_local.sh      # build the image without Docker's layer cache
#   MIRROR=<Debian mirror URL> bash deploy/build_local.sh   # a mirror other than the host's apt sources' one
#   INDEX_URL=<index URL> bash deploy/build_local.sh        # a package index other than pip's configured one
#
# Steps: (1) apt-get install docker.io debootstrap; (2) start dockerd if it is not running;
# (3) debootstrap a minimal bookworm (python3.11, venv, pip) from the mirror in /etc/apt and
# `docker import` it; (4) put the torch CPU wheel (found through pip's own configuration) and pip's
# CA bundle into deploy/local/ (git-ignored); (5) `docker build` with build args pointing at them;
# (6) start the image STARTS times and time container start -> /_stcore/health answers -> Home page
# served to a real session -> Docker reports healthy; (7) open every page in Chromium against the container
# (deploy/smoke_pages.py) and count exceptions; (8) write the figures into deploy/REPORT.md (section "image").
# The public path is `docker build` with the Dockerfile's defaults; nothing here changes it.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
WORK=$REPO/deploy/.work
mkdir -p "$WORK" deploy/local

IMAGE=${IMAGE:-consistency-explorer:local}
BASE=${BASE:-consistency-explorer-base:bookworm}
STARTS=${STARTS:-3}
PORT=${PORT:-18501}
TORCH_VERSION=${TORCH_VERSION:-2.13.0+cpu}
log() { printf '[build_local %s] %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

[ "$(id -u)" = 0 ] || { echo "run as root (apt-get, dockerd, debootstrap need it)" >&2; exit 1; }

# (1) packages
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  log "apt-get install docker.io debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi
# Debian's client matches Debian's daemon; another docker binary earlier in PATH may not.
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}

# (2) the daemon
if ! "$DOCKER" info >/dev/null 2>&1; then
  log "starting dockerd (log: $WORK/dockerd.log)"
  nohup dockerd >"$WORK/dockerd.log" 2>&1 &
  for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
  "$DOCKER" info >/dev/null 2>&1 || { tail -20 "$WORK/dockerd.log" >&2; exit 1; }
fi

# (3) the base image
mirror() {  # first Debian mirror serving bookworm (not -security) in apt's configuration
  python3 - <<'PY'
import glob, re
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path).read().split("\n\n"):
        f = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if "bookworm" in f.get("Suites", "").split() and "deb" in f.get("Types", "").split():
            print(f["URIs"].split()[0]); raise SystemExit
for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        m = re.match(r"deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s", line)
        if m:
            print(m.group(1)); raise SystemExit
PY
}
MIRROR_S="the first bookworm source in the host's apt configuration"
[ -n "${MIRROR:-}" ] && MIRROR_S="MIRROR (set by the user)"
MIRROR=${MIRROR:-$(mirror)}
[ -n "$MIRROR" ] || { echo "no bookworm source in /etc/apt: set MIRROR=<a Debian mirror URL>" >&2; exit 1; }
BASE_S="an existing image reused (REBUILD_BASE=1 remakes it)"
if [ -n "${REBUILD_BASE:-}" ] || ! "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
  log "debootstrap bookworm from $MIRROR_S"
  t0=$(now)
  ROOTFS=$WORK/rootfs
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log" >&2; exit 1; }
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  tar -C "$ROOTFS" -c . | "$DOCKER" import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$ROOTFS"
  BASE_S="made in $(since "$t0") s"
fi
BASE_PY=$("$DOCKER" run --rm "$BASE" python3 --version)

# (4) local build inputs: the torch CPU wheel through pip's own configuration, pip's CA bundle
find deploy/local -mindepth 1 ! -name README.md -delete
pip download --no-deps --only-binary :all: -d deploy/local "torch==$TORCH_VERSION" >"$WORK/pip-download.log" 2>&1 \
  || { tail -20 "$WORK/pip-download.log" >&2; exit 1; }
WHEEL=$(basename "$(ls deploy/local/torch-*.whl)")
CA=${PIP_CERT:-$(pip config get global.cert 2>/dev/null || true)}
CA=${CA:-/etc/ssl/certs/ca-certificates.crt}
cp "$CA" deploy/local/ca-bundle.crt
INDEX=${INDEX_URL:-$(pip config get global.index-url 2>/dev/null || true)}  # empty: pip's default index

# (5) the image
log "docker build $IMAGE (base $BASE, torch from deploy/local/$WHEEL, index ${INDEX:-the default of pip})"
BUILD_ARGS=(--build-arg "BASE_IMAGE=$BASE" --build-arg "TORCH_INDEX_URL=" --build-arg "TORCH_VERSION=$TORCH_VERSION"
            --build-arg "INDEX_URL=$INDEX" --build-arg "PIP_CA_BUNDLE=ca-bundle.crt")
SHOWN_ARGS=${BUILD_ARGS[*]}
SHOWN_ARGS=${SHOWN_ARGS/INDEX_URL=$INDEX/INDEX_URL=${INDEX:+\$INDEX_URL}}  # the report names no package host
t0=$(now)
"$DOCKER" build --network host ${NO_CACHE:+--no-cache} -t "$IMAGE" "${BUILD_ARGS[@]}" . >"$WORK/docker-build.log" 2>&1 \
  || { tail -40 "$WORK/docker-build.log" >&2; exit 1; }
BUILD_S=$(since "$t0")
CACHED=$(grep -c "Using cache" "$WORK/docker-build.log" || true)
CACHE_NOTE=$([ "${CACHED:-0}" = 0 ] && echo " (no layer cached: a full build)" \
  || echo " ($CACHED steps cached from an earlier build: NO_CACHE=1 for a full one)")
SIZE_B=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
BASE_B=$("$DOCKER" image inspect -f '{{.Size}}' "$BASE")
INSIDE=$("$DOCKER" run --rm "$IMAGE" python -c "import os, torch, streamlit; print(f'uid {os.getuid()}, torch {torch.__version__} (cuda: {torch.version.cuda}), streamlit {streamlit.__version__}, {torch.get_num_threads()} torch threads')")

# (6) start-up: container start -> health endpoint answers "ok" -> first Home page fully run for one real
# session (bench/load.py over the websocket) -> Docker's HEALTHCHECK says healthy
ROWS=""
LOADS=""
for i in $(seq "$STARTS"); do
  "$DOCKER" rm -f cm-startup >/dev/null 2>&1 || true
  t0=$(now)
  "$DOCKER" run -d --name cm-startup -p "127.0.0.1:$PORT:8501" "$IMAGE" >/dev/null
  ok=""; healthy=""; home=""
  for _ in $(seq 1200); do
    [ "$(curl -fsS -m 1 "http://127.0.0.1:$PORT/_stcore/health" 2>/dev/null)" = ok ] && { ok=$(since "$t0"); break; }
    sleep 0.1
  done
  [ -n "$ok" ] || { "$DOCKER" logs cm-startup 2>&1 | tail -30 >&2; exit 1; }
  python3 bench/load.py --url "http://127.0.0.1:$PORT" --sessions 1 --retrainers 0 --pages home --actions 0 \
    --warmup 0 --settle 0 --json "$WORK/first-page.json" >"$WORK/first-page.log" 2>&1 \
    || { cat "$WORK/first-page.log" >&2; exit 1; }
  home=$(since "$t0")
  for _ in $(seq 1200); do
    [ "$("$DOCKER" inspect -f '{{.State.Health.Status}}' cm-startup)" = healthy ] && { healthy=$(since "$t0"); break; }
    sleep 0.1
  done
  [ -n "$healthy" ] || { "$DOCKER" logs cm-startup 2>&1 | tail -30 >&2; exit 1; }
  # memory once it has settled (app.py preloads the page libraries in a thread after the first page):
  # two readings of docker stats (each takes ~2 s) within 2 MiB of each other, at most 15 readings
  mem=""; prev=""
  for _ in $(seq 15); do
    mem=$("$DOCKER" stats --no-stream --format '{{.MemUsage}}' cm-startup | cut -d/ -f1 | tr -d ' ')
    [ -n "$prev" ] && python3 -c "
import re, sys
def mib(v):
    n, u = re.match(r'([0-9.]+)([KMG]i?B)', v).groups()
    return float(n) * {'KiB': 1 / 1024, 'MiB': 1, 'GiB': 1024}.get(u, 1)
sys.exit(0 if abs(mib(sys.argv[1]) - mib(sys.argv[2])) < 2 else 1)" "$mem" "$prev" && break
    prev=$mem
  done
  ROWS+="| $i | $ok | $home | $healthy | $mem |"$'\n'
  LOADS+="$(cut -d' ' -f1 /proc/loadavg) "
  "$DOCKER" rm -f cm-startup >/dev/null
done

# (7) every page in Chromium against the container: exceptions a student would see
"$DOCKER" rm -f cm-smoke >/dev/null 2>&1 || true
"$DOCKER" run -d --name cm-smoke -p "127.0.0.1:$PORT:8501" "$IMAGE" >/dev/null
for _ in $(seq 1200); do
  [ "$(curl -fsS -m 1 "http://127.0.0.1:$PORT/_stcore/health" 2>/dev/null)" = ok ] && break
  sleep 0.1
done
log "smoke test: every page in Chromium"
SMOKE_RC=0
python3 deploy/smoke_pages.py "http://127.0.0.1:$PORT" --json "$WORK/smoke.json" --shots "$WORK/smoke" \
  >"$WORK/smoke.log" 2>&1 || SMOKE_RC=$?
"$DOCKER" logs cm-smoke >"$WORK/smoke-server.log" 2>&1 || true
"$DOCKER" rm -f cm-smoke >/dev/null
[ -s "$WORK/smoke.json" ] || { cat "$WORK/smoke.log" >&2; exit 1; }
SMOKE=$(python3 deploy/smoke_pages.py --summary "$WORK/smoke.json")
SMOKE_ROWS=$(python3 deploy/smoke_pages.py --table "$WORK/smoke.json")

# (8) the report
mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 2**20:,.0f} MiB')" "$1"; }
python3 deploy/report.py image <<MD
## Image (written by \`deploy/build_local.sh\`)

$(date -u +'%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Dockerfile requirements.txt || echo ' (Dockerfile/requirements changed since)'), host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $("$DOCKER" version -f 'Docker {{.Server.Version}}').

| what | figure |
|---|---|
| image \`$IMAGE\` size (\`docker image inspect -f '{{.Size}}'\`) | **$(mib "$SIZE_B")** (of which base $(mib "$BASE_B")) |
| base \`$BASE\` | debootstrap --variant=minbase bookworm from $MIRROR_S: $BASE_PY; $BASE_S |
| \`docker build\` time | $BUILD_S s$CACHE_NOTE |
| inside the image | $INSIDE |

Start-up, seconds after \`docker run -d\`: the health endpoint answers \`ok\` on the published port (polled
every 0.1 s); then one real session (\`bench/load.py --sessions 1 --pages home --warmup 0\`, over the websocket)
has the Home page fully run, models loaded (the first page a student can use); Docker's HEALTHCHECK reports
\`healthy\` (it probes every 5 s, so that figure lags by up to 5 s). Memory: \`docker stats\` after that, once two readings agree within 2 MiB
(app.py preloads the page libraries in a thread after the first page).

| start | health ok (s) | Home page served (s) | Docker healthy (s) | container memory |
|---|---|---|---|---|
$ROWS
Every page against the container (\`python3 deploy/smoke_pages.py http://127.0.0.1:$PORT\`: each page of
app.py's navigation in a fresh Chromium session, an exercise's question skipped, waited on until drawn):
$SMOKE.

| page | path | drawn | exceptions | error messages |
|---|---|---|---|---|
$SMOKE_ROWS

The machine is shared with other work: its 1-minute load average after each start was $LOADS(on
$(nproc) cores), and these times include that contention.
Commands (as run by the script):

\`\`\`bash
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates bookworm ROOTFS "\$MIRROR"
tar -C ROOTFS -c . | docker import --change 'CMD ["/bin/bash"]' - $BASE
pip download --no-deps --only-binary :all: -d deploy/local "torch==$TORCH_VERSION"   # -> $WHEEL (pip's find-links)
cp $CA deploy/local/ca-bundle.crt
docker build --network host -t $IMAGE $SHOWN_ARGS .
docker run -d -p 127.0.0.1:$PORT:8501 $IMAGE
python3 deploy/smoke_pages.py http://127.0.0.1:$PORT
\`\`\`
MD
log "done: $(mib "$SIZE_B"); smoke test: $SMOKE; report in deploy/REPORT.md"
exit "$SMOKE_RC"
