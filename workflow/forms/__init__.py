"""WTForms, one module per screen family."""
