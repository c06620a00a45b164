"""HTTP API of iati-ec."""
