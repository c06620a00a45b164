"""IATI XML ⇄ internal model, hardened reading and writing, and validation."""
