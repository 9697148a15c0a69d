"""Inference backends: phoneme tokens + style vector in, float PCM out."""
