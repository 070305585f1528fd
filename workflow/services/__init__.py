"""Use cases: what each action does, in one transaction with its history row."""
