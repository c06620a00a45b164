"""`python -m service` runs the `iati-ec` command line."""

from service.cli import app

app(prog_name="iati-ec")
