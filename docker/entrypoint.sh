#!/bin/sh
# Container entry point: start wyoming-kokoro with the baked-in model bundle.
#
#   KOKORO_BUNDLE  model bundle directory (default /opt/kokoro/model; empty: the embedded model)
#   KOKORO_URI     listen address (default tcp://0.0.0.0:10200)
#   KOKORO_CONFIG  config file, used when it exists (default /config/config.yaml)
#
# Extra arguments are passed to wyoming-kokoro, e.g. `docker run IMAGE --voice af_heart`;
# flags given here override the config file.
set -eu

bundle=${KOKORO_BUNDLE-/opt/kokoro/model}
uri=${KOKORO_URI:-tcp://0.0.0.0:10200}
config=${KOKORO_CONFIG-/config/config.yaml}

set -- --uri "$uri" "$@"
if [ -n "$bundle" ]; then
    if [ ! -f "$bundle/manifest.json" ]; then
        echo "entrypoint: no model bundle in $bundle (set KOKORO_BUNDLE, or empty for the embedded model)" >&2
        exit 2
    fi
    set -- --bundle "$bundle" "$@"
fi
if [ -n "$config" ]; then
    if [ -f "$config" ]; then
        set -- --config "$config" "$@"
    else
        echo "entrypoint: no config file at $config; using the defaults (mount a directory with config.yaml at /config to change them)" >&2
    fi
fi

exec wyoming-kokoro "$@"
