"""Streaming CSV import: bytes → decoded text → mapped, normalised import lines; error reports."""
