"""The ``seqgrade`` command line: a thin layer over library functions."""

import click


@click.group()
@click.version_option(package_name="seqgrade")
def main() -> None:
    """seqgrade: teach and grade RNNs, attention, Seq2Seq and Transformers."""
