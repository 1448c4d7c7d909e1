"""Secret stores (entry point group ``deploytag.secret_stores``): a local file, AWS Secrets Manager."""
