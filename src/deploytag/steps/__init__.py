"""One module per pipeline step. Steps use ports and core only (import-linter checks)."""
