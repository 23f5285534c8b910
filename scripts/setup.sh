#!/usr/bin/env bash
# What the tests need on a fresh Debian machine, beside the Swift toolchain: the system SQLite,
# libpq and a PostgreSQL 15 server (the second backend's tests start their own cluster),
# curl (webhooks), the sqlite3 shell (the benchmark's comparison), and the real AWS clients the
# server's tests drive (the AWS CLI and boto3; botocore also regenerates Model/), the MQTT
# clients the endpoint's tests drive (mosquitto_pub/sub, paho-mqtt, the AWS IoT Device SDK v2), and
# the console's browser test (Debian's chromium and chromium-driver, selenium from PyPI).
# Installs only what is missing. Run as root (or with sudo).
set -euo pipefail

missing=()
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev pkg-config)
command -v curl >/dev/null || missing+=(curl)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v python3 >/dev/null || missing+=(python3 python3-pip)
ldconfig -p | grep -q 'libpq\.so\.5 ' || missing+=(libpq5)            # the PostgreSQL driver (CLibPQ loads it)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql-15)   # the tests' throwaway cluster
command -v mosquitto >/dev/null || missing+=(mosquitto)                 # the MQTT benchmark's comparison
command -v mosquitto_pub >/dev/null || missing+=(mosquitto-clients)     # the MQTT endpoint's tests
command -v chromium >/dev/null || missing+=(chromium)                   # the console's browser test
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    (apt-get update -qq && apt-get install -y -qq "${missing[@]}") >/dev/null
fi

py=()
python3 -c 'import boto3' 2>/dev/null || py+=(boto3)
command -v aws >/dev/null || py+=(awscli)
python3 -c 'import cryptography' 2>/dev/null || py+=(cryptography)   # the tests make CSRs and self-signed certificates
python3 -c 'import paho.mqtt' 2>/dev/null || py+=(paho-mqtt)          # the MQTT endpoint's tests (MQTT 5 reason codes)
python3 -c 'import awsiot' 2>/dev/null || py+=(awsiotsdk)             # the AWS IoT Device SDK v2 as the device
python3 -c 'import selenium' 2>/dev/null || py+=(selenium)           # the console's browser test drives chromium
if [ ${#py[@]} -gt 0 ]; then
    python3 -m pip install -q "${py[@]}" 2>/dev/null || python3 -m pip install -q --break-system-packages "${py[@]}"
fi
