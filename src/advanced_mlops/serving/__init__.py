"""Serving: a BentoML service for the champion, with non-blocking, lossless prediction logging."""
