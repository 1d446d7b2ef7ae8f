# Consistency Explorer: one container, one Streamlit server on port 8501.
#
#   docker build -t consistency-explorer --build-arg TORCH_INDEX_URL=<PyTorch's CPU wheel index> .
#   docker run -p 8501:8501 consistency-explorer      # then open http://localhost:8501
#
# Build arguments (deploy/build_local.sh sets them on a machine without Docker Hub):
#   BASE_IMAGE       a Debian-based image with python3.11 and its venv module
#   TORCH_INDEX_URL  an extra index that serves torch's CPU build (the default index's torch==2.13.0 for Linux
#                    is the CUDA build, 2.55 GiB with its nvidia-* wheels: deploy/REPORT.md); leave it empty
#                    when the CPU wheel is in deploy/local/. With neither, the build stops and says so.
#   TORCH_VERSION    the CPU wheel's version (same release as requirements.txt's torch pin)
#   INDEX_URL        where everything else comes from; empty: pip's default index
#   PIP_CA_BUNDLE    a CA bundle file inside the build context for pip (empty: the image's own)
# Wheels placed in deploy/local/ (git-ignored) are offered to pip as find-links.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# --- build stage: a virtual environment with the pinned requirements ------------------------
FROM ${BASE_IMAGE} AS build
ARG TORCH_INDEX_URL=
ARG TORCH_VERSION=2.13.0+cpu
ARG INDEX_URL=
ARG PIP_CA_BUNDLE=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=120
COPY deploy/local/ /tmp/local/
COPY requirements.txt /tmp/requirements.txt
# torch first, from the CPU source; then the rest (torch==2.13.0 is then already satisfied by 2.13.0+cpu).
RUN set -eu; \
    if [ -z "$TORCH_INDEX_URL" ] && ! ls /tmp/local/torch-*.whl >/dev/null 2>&1; then \
        echo "No source for torch's CPU build: pass --build-arg TORCH_INDEX_URL=<PyTorch's CPU wheel index>," \
             "or put torch-${TORCH_VERSION}-*.whl in deploy/local/ (deploy/build_local.sh does)." >&2; exit 1; fi; \
    cert="${PIP_CA_BUNDLE:+--cert /tmp/local/$PIP_CA_BUNDLE}"; \
    index="${INDEX_URL:+--index-url $INDEX_URL}"; \
    python3 -m venv /opt/venv; \
    /opt/venv/bin/pip install $cert $index \
        ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} --find-links /tmp/local "torch==${TORCH_VERSION}"; \
    /opt/venv/bin/pip install $cert $index --find-links /tmp/local -r /tmp/requirements.txt; \
    /opt/venv/bin/python -c "import torch; assert not torch.version.cuda, 'CUDA torch build: ' + torch.__version__; print('torch', torch.__version__)"; \
    /opt/venv/bin/pip uninstall -y pip setuptools >/dev/null 2>&1 || true

# --- run stage: the venv, the app, a non-root user -------------------------------------------
FROM ${BASE_IMAGE}
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app \
    && mkdir -p /data/runs && chown app:app /data/runs
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY app.py ./
COPY .streamlit/ .streamlit/
COPY pages/ pages/
COPY ui/ ui/
COPY cmcore/ cmcore/
COPY viz/ viz/
COPY checkpoints/ checkpoints/
# Two cores is the size this app is tuned for: cap every thread pool to match, so a bigger host
# does not oversubscribe and a smaller container limit is not thrashed.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CMCORE_RUN_DIR=/data/runs \
    OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 NUMEXPR_NUM_THREADS=2 VECLIB_MAXIMUM_THREADS=2 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_SERVER_RUN_ON_SAVE=false \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
USER app
# Finished runs and uploaded datasets (bounded, oldest evicted first): mount a volume here to keep them
# across restarts, or share one between replicas so a link to a run opens on either.
VOLUME /data/runs
EXPOSE 8501
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2).read() != b'ok')"]
CMD ["streamlit", "run", "app.py", "--server.headless", "true", "--server.fileWatcherType", "none", \
     "--server.address", "0.0.0.0", "--server.port", "8501"]
