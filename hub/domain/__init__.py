"""Domain vocabulary and pure rules: no I/O, no Flask, no SQLAlchemy sessions."""
