"""Pull/merge request feedback providers (the Feedback port), one module per platform.

Found through the ``deploytag.feedback`` entry points; the service never imports them.
"""
