"""Plumbing every adapter shares: the one place subprocesses start, and the SDK check."""
