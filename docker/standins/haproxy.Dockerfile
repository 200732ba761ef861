# A stand-in for the official haproxy image, for machines that cannot pull it (make stack-e2e
# builds it on the offline-made Debian base): Debian bookworm's HAProxy 2.6 laid out as the
# official image is: the configuration at /usr/local/etc/haproxy/haproxy.cfg (docker-compose.yml
# mounts docker/proxy/haproxy.cfg there), user haproxy, master-worker in the foreground, SIGUSR1
# to stop softly; and `wget` for the compose file's healthcheck (the alpine image's busybox has
# one). Not for production: use the official image there.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy wget \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /usr/local/etc/haproxy
# The package's system user, as the official image's `USER haproxy`.
# hadolint ignore=DL3066
USER haproxy
STOPSIGNAL SIGUSR1
EXPOSE 3000
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
