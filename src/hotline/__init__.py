"""hotline12345: the platform of a provincial 12345 government service hotline."""

__version__ = "0.1.0"
