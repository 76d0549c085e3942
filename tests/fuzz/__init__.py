"""Fuzz harnesses of the input readers and the report (see README.md here)."""
