"""The files derived from a single source, one module per generated thing; scripts/sync.py writes
or checks them all. Each module's functions return the text a file should hold."""
