"""Synthesis: admission, scheduling and the phrase caches between the front ends and the engine."""
