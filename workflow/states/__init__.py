"""State machines of items, meetings and public comment (DOMAIN §2, §4, §5)."""
