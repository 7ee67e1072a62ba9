"""Stage 3, studio: a release in, Label Studio tasks out (and the raw export back).

The embedded server, the SDK client, the labeling config, push and export fetch.
"""
