"""Text pipeline: split, pick a language, phonemize."""
