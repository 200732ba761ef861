# A stand-in for the official mariadb:10.11 image, for machines that cannot pull it (make
# stack-e2e builds it on the offline-made Debian base): Debian bookworm's MariaDB 10.11 with an
# entrypoint honouring what docker-compose.yml uses of the official one: MARIADB_ROOT_PASSWORD,
# MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD, /docker-entrypoint-initdb.d/*.sh on the first
# start, options as the command (`--character-set-server=...`), and `healthcheck.sh --connect
# --innodb_initialized`. Not for production: use the official image there.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client \
    && rm -rf /var/lib/apt/lists/* /var/lib/mysql \
    && mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d \
    && chown mysql:mysql /var/lib/mysql /run/mysqld
COPY docker/standins/mariadb-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY docker/standins/mariadb-healthcheck.sh /usr/local/bin/healthcheck.sh
VOLUME /var/lib/mysql
EXPOSE 3306
ENTRYPOINT ["bash", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["mariadbd"]
