"""`deploytag init`'s pure part: what an app repository holds (``detect``) and the files
written from it (``config_file``, ``github``, ``gitlab``). Reading the git remote and writing
files is the service's (``service/init.py``)."""
