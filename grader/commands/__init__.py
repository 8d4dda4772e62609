"""One module per `seqgrade` command; each forwards to library functions."""
