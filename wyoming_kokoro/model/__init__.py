"""Model bundles on disk, the embedded default, and the active model."""
