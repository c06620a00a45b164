"""The packages to build: the project's own, and the Alembic scripts.

The scripts stay at the top of the repository (`migrations/`, where Alembic's tools look
for them) and are shipped inside the service package as `service/migrations`, so that an
installed `iati-ec` can migrate and serve from any folder (`service.db.migrations_directory`).
Everything else about the build is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["iati*", "service*", "mappings*"]),
        "service.migrations", "service.migrations.versions",
    ],
    package_dir={"service.migrations": "migrations"},
)
