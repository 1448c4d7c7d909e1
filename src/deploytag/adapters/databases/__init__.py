"""Branch database servers (entry point group ``deploytag.databases``): PostgreSQL, MySQL/MariaDB."""
