"""Service layer: one function per user-facing operation, orchestrating steps."""
