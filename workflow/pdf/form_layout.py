"""Placeholder until the layout work lands: every form prints at its normal size."""


def is_dense(context: dict) -> bool:
    return False
