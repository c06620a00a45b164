"""The public dashboard: server-rendered pages and their downloads."""
