"""Running untrusted submissions: a sandboxed zygote that forks one child per submission.

`wire` is the message format, `harness` runs inside the sandbox (it imports
nothing from seqgrade, so it works where the grader's files are invisible),
`launcher` builds the bubblewrap command line and `client` is the trusted
side's proxy to a child.
"""
