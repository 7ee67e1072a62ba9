"""News-annotation dataset toolkit: build -> push -> pull, one module per stage."""

__version__ = "0.1.0"
