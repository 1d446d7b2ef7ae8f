# The proxy of compose.yaml: Debian's haproxy with deploy/haproxy.cfg (build context: deploy/).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY haproxy.cfg /etc/haproxy/haproxy.cfg
USER haproxy
EXPOSE 8501 8404
CMD ["haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
