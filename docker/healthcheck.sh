#!/bin/sh
# Docker HEALTHCHECK: healthy when the server answers a Wyoming `describe` on its port.
# Reads the port from KOKORO_URI (default tcp://0.0.0.0:10200) and asks on the loopback address.
set -eu

uri=${KOKORO_URI:-tcp://0.0.0.0:10200}
port=${uri##*:}
case $port in
    '' | *[!0-9]*)
        echo "healthcheck: cannot read a TCP port from KOKORO_URI=$uri" >&2
        exit 1
        ;;
esac

exec python -m wyoming_kokoro.client --uri "tcp://127.0.0.1:$port" --timeout "${KOKORO_HEALTH_TIMEOUT:-5}" describe >/dev/null
