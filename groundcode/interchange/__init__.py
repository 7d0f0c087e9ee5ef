"""Interchange: REFI-QDA (``.qdpx``, ``.qdc``) and codebook files, read and written."""
