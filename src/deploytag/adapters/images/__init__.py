"""Images: builders (entry point group ``deploytag.builders``: buildah, docker, kaniko) and registries.

Registries: ``registry_v2`` (the distribution v2 API), ``registry_auth`` (credential
sources), ``ecr`` (AWS ECR tokens); ``kaniko_context``/``s3_context`` carry kaniko's
build context. Builder settings are in ``settings`` (msgspec only).
"""
