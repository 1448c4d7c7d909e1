"""Real servers started by hand for tests and tools/example.sh (never systemd)."""
